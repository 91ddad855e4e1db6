using System.Net;

namespace VirtPortal.Web.Tests.Api;

/// <summary>The approval inbox through the API: what waits, approving (with the version read), rejecting with a reason, in bulk.</summary>
public sealed class ApprovalsApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_approver_finds_a_waiting_request_in_the_inbox_with_its_facts_and_approves_it()
    {
        var id = await portal.PendingRequestAsync();
        using var approver = await portal.ClientAsync(ApiPortal.Approver);

        using var inbox = await approver.GetAsync("/api/v1/approvals?limit=200", Ct);
        var item = (await inbox.ExpectAsync(HttpStatusCode.OK)).Items().Single(i => i.GetProperty("request").Id() == id);
        using var read = await approver.GetAsync($"/api/v1/requests/{id}", Ct);
        using var approved = await approver.PostAsync($"/api/v1/approvals/{id}/approve", headers: new Dictionary<string, string> { ["If-Match"] = read.Headers.ETag!.Tag });

        Assert.True(item.GetProperty("factsAfterApproval").GetProperty("quota").GetProperty("fits").GetBoolean());
        Assert.Equal("Completed", (await approved.ExpectAsync(HttpStatusCode.OK)).GetProperty("request").GetProperty("state").GetString());
        using var after = await approver.GetAsync("/api/v1/approvals?limit=200", Ct);
        Assert.DoesNotContain((await after.ExpectAsync(HttpStatusCode.OK)).Items(), i => i.GetProperty("request").Id() == id);
    }

    [Fact]
    public async Task A_read_only_approver_token_reads_the_inbox_it_may_not_act_on()
    {
        var id = await portal.PendingRequestAsync();
        using var reader = await portal.ClientAsync(ApiPortal.Approver, readOnly: true);

        using var inbox = await reader.GetAsync("/api/v1/approvals?limit=200", Ct);

        Assert.Contains((await inbox.ExpectAsync(HttpStatusCode.OK)).Items(), i => i.GetProperty("request").Id() == id);
    }

    [Fact]
    public async Task A_rejection_carries_its_reason_to_the_request_and_one_without_a_reason_is_refused_on_its_field()
    {
        var id = await portal.PendingRequestAsync();
        using var approver = await portal.ClientAsync(ApiPortal.Approver);

        using var empty = await approver.PostAsync($"/api/v1/approvals/{id}/reject", new { reason = "  " });
        using var rejected = await approver.PostAsync($"/api/v1/approvals/{id}/reject", new { reason = "Use the shared pool." });

        Assert.Equal(["Say why the request is rejected; the requester sees it."], (await empty.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("reason"));
        var request = (await rejected.ExpectAsync(HttpStatusCode.OK)).GetProperty("request");
        Assert.Equal(("Rejected", "Use the shared pool."), (request.GetProperty("state").GetString(), request.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task A_requester_is_told_why_they_may_not_decide_their_own_request()
    {
        var id = await portal.PendingRequestAsync(ApiPortal.Member);
        using var member = await portal.ClientAsync(ApiPortal.Member);

        using var response = await member.PostAsync($"/api/v1/approvals/{id}/approve");

        Assert.Equal("You cannot decide your own request.", (await response.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
    }

    [Fact]
    public async Task Helpdesk_is_told_it_is_no_approver_and_the_member_sees_no_inbox()
    {
        var id = await portal.PendingRequestAsync();
        using var helpdesk = await portal.ClientAsync(ApiPortal.Helpdesk);
        using var member = await portal.ClientAsync(ApiPortal.Member);

        using var approve = await helpdesk.PostAsync($"/api/v1/approvals/{id}/approve");
        using var inbox = await member.GetAsync("/api/v1/approvals", Ct);

        Assert.Equal("You are not an approver of stage 1 for this tenant.", (await approve.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
        await inbox.ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_stale_version_is_refused_and_a_decided_request_cannot_be_decided_again()
    {
        var id = await portal.PendingRequestAsync();
        using var approver = await portal.ClientAsync(ApiPortal.Approver);

        using var stale = await approver.PostAsync($"/api/v1/approvals/{id}/approve", headers: new Dictionary<string, string> { ["If-Match"] = "\"99\"" });
        using var approved = await approver.PostAsync($"/api/v1/approvals/{id}/approve");
        using var again = await approver.PostAsync($"/api/v1/approvals/{id}/reject", new { reason = "too late" });

        await stale.ExpectAsync(HttpStatusCode.PreconditionFailed);
        await approved.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["The request is already completed; it cannot be approved."], (await again.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(""));
    }

    [Fact]
    public async Task Bulk_approval_approves_each_it_may_and_says_why_not_for_the_others()
    {
        var first = await portal.PendingRequestAsync();
        var second = await portal.PendingRequestAsync();
        var unknown = Guid.NewGuid();
        using var approver = await portal.ClientAsync(ApiPortal.Approver);

        using var response = await approver.PostAsync("/api/v1/approvals/bulk-approve", new { requestIds = new[] { first, unknown, second } });
        using var none = await approver.PostAsync("/api/v1/approvals/bulk-approve", new { requestIds = Array.Empty<Guid>() });

        var outcomes = (await response.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().ToDictionary(o => o.GetProperty("requestId").GetGuid());
        Assert.True(outcomes[first].GetProperty("approved").GetBoolean());
        Assert.True(outcomes[second].GetProperty("approved").GetBoolean());
        Assert.Equal("You do not have permission to do that.", outcomes[unknown].GetProperty("error").GetString());
        Assert.Equal(["Name 1 to 100 requests."], (await none.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("requestIds"));
    }
}
