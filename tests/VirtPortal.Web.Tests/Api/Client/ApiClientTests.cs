using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using VirtPortal.ApiClient;
using VirtPortal.ApiClient.Models;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Tests.Api.Client;

/// <summary>
/// The API as a client generated from its OpenAPI document by a standard generator (Kiota) sees it: the
/// portal serves the document the client was generated from, and the client alone, with two tokens, takes a
/// VM from request through an approver's decision to running on the simulated host.
/// </summary>
public sealed class ApiClientTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    /// <summary>Where the document the client is generated from is kept (the build regenerates the client when it changes).</summary>
    public static string DocumentPath => Path.Combine(RepositoryRoot(), "tests", "VirtPortal.Web.Tests", "Api", "Client", "openapi-v1.json");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_portal_serves_the_document_the_client_was_generated_from()
    {
        using var anonymous = portal.CreateClient();
        var served = Comparable(JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json", Ct))!);
        if (Environment.GetEnvironmentVariable("VIRTPORTAL_UPDATE_API_CLIENT") == "1")
            await File.WriteAllTextAsync(DocumentPath, served.ToJsonString(new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n", Ct);

        var kept = Comparable(JsonNode.Parse(await File.ReadAllTextAsync(DocumentPath, Ct))!);

        Assert.True(FirstDifference(kept, served, "$") is not { } difference, $"""
            The API changed since the test client was generated: {FirstDifference(kept, served, "$")}.
            Run scripts/update-api-client.sh and commit tests/VirtPortal.Web.Tests/Api/Client/openapi-v1.json.
            """);
    }

    [Fact]
    public async Task A_generated_client_requests_a_vm_an_approver_approves_it_and_it_runs_on_the_simulated_host()
    {
        var (tenantId, member, approver) = await ArrangeAsync();
        var templates = await member.Api.V1.Catalog.Templates.GetAsync(cancellationToken: Ct);
        var tiny = templates!.Items!.Single(t => t.Name == "Tiny test guest");
        var sizes = await member.Api.V1.Catalog.Templates[tiny.Id!.Value].Sizes.GetAsync(cancellationToken: Ct);
        var small = sizes!.Items!.Single(s => s.Name == "small");
        var name = $"gen-{Guid.NewGuid():N}"[..12];
        // 60 days is past the default policy's 30 for approving by itself: the request waits for an approver.
        var draft = new RequestDraft { Kind = RequestKind.NewVm, TenantId = tenantId, Name = name, TemplateId = tiny.Id, SizeId = small.Id, LeaseDays = 60, Justification = "generated client" };

        var submitted = await member.Api.V1.Requests.PostAsync(draft, c => c.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString()), Ct);

        var requestId = submitted!.Request!.Id!.Value;
        Assert.Equal(RequestState.PendingApproval, submitted.Request.State);
        var inbox = await approver.Api.V1.Approvals.GetAsync(c => c.QueryParameters.Limit = 200, Ct);
        Assert.Contains(inbox!.Items!, i => i.Request!.Id == requestId);

        var approved = await approver.Api.V1.Approvals[requestId].Approve.PostAsync(c => c.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString()), Ct);

        Assert.NotEqual(RequestState.PendingApproval, approved!.Request!.State);
        var done = await UntilAsync(() => member.Api.V1.Requests[requestId].GetAsync(cancellationToken: Ct), r => r?.Request?.State is RequestState.Completed or RequestState.Failed);
        Assert.Equal(RequestState.Completed, done!.Request!.State);
        var vm = await member.Api.V1.Resources[done.ResourceId!.Value].GetAsync(cancellationToken: Ct);
        Assert.Equal(name, vm!.Summary!.Name);
        Assert.Equal(ResourceState.Running, vm.Summary.State);
        Assert.Equal(tenantId, vm.Summary.TenantId);
        Assert.False(string.IsNullOrEmpty(vm.Summary.HostName));
    }

    [Fact]
    public async Task The_generated_client_reads_a_refusal_as_its_typed_problem_naming_the_field()
    {
        var (tenantId, member, _) = await ArrangeAsync();
        var templates = await member.Api.V1.Catalog.Templates.GetAsync(cancellationToken: Ct);
        var tiny = templates!.Items!.Single(t => t.Name == "Tiny test guest");

        var refused = await Assert.ThrowsAsync<HttpValidationProblemDetails>(() => member.Api.V1.Requests.PostAsync(
            new RequestDraft { Kind = RequestKind.NewVm, TenantId = tenantId, Name = "9lives", TemplateId = tiny.Id, LeaseDays = 7 }, cancellationToken: Ct));

        Assert.Equal(422, refused.ResponseStatusCode);
        Assert.Equal("The request is not valid.", refused.Title);
        Assert.Contains("A name starts with a letter.", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("Choose a size.", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("name", refused.Errors!.AdditionalData.Keys);
        Assert.Contains("sizeId", refused.Errors.AdditionalData.Keys);
    }

    /// <summary>A tenant of the test's own (default policy), a new member of it, and the generated client for that member and for the demo approver.</summary>
    private async Task<(Guid Tenant, PortalClient Member, PortalClient Approver)> ArrangeAsync()
    {
        var admin = await portal.AdminActorAsync();
        var tenantId = await portal.Services.GetRequiredService<TenantService>().CreateAsync(admin, $"gen-{Guid.NewGuid():N}"[..12], null, Core.Tenancy.TenantQuota.Default, Ct);
        var member = await portal.UserAsync((tenantId, TenantRole.Member));
        return (tenantId, Client((await portal.TokenAsync(member)).Secret), Client((await portal.TokenAsync(ApiPortal.Approver)).Secret));
    }

    /// <summary>The generated client over the test server, the token sent as a script sends it.</summary>
    private PortalClient Client(string token)
    {
        var http = portal.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new PortalClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = http.BaseAddress!.ToString().TrimEnd('/') });
    }

    private static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTimeOffset.UtcNow > deadline)
                return value;
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }

    /// <summary>The document without its <c>servers</c>, which name the address it was fetched from.</summary>
    private static JsonNode Comparable(JsonNode document)
    {
        document.AsObject().Remove("servers");
        return document;
    }

    /// <summary>Where two documents first differ (objects compared by member, in any order), or null.</summary>
    private static string? FirstDifference(JsonNode? kept, JsonNode? served, string path)
    {
        switch (kept, served)
        {
            case (null, null):
                return null;
            case (JsonObject a, JsonObject b):
                foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal))
                {
                    if (!a.ContainsKey(name))
                        return $"{path}.{name} is new";
                    if (!b.ContainsKey(name))
                        return $"{path}.{name} is gone";
                    if (FirstDifference(a[name], b[name], $"{path}.{name}") is { } inner)
                        return inner;
                }

                return null;
            case (JsonArray a, JsonArray b):
                for (var i = 0; i < Math.Max(a.Count, b.Count); i++)
                {
                    if (i >= a.Count || i >= b.Count)
                        return $"{path} has {b.Count} items instead of {a.Count}";
                    if (FirstDifference(a[i], b[i], $"{path}[{i}]") is { } inner)
                        return inner;
                }

                return null;
            default:
                return JsonNode.DeepEquals(kept, served) ? null : $"{path} is {served?.ToJsonString() ?? "null"} instead of {kept?.ToJsonString() ?? "null"}";
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "VirtPortal.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException("The tests run outside the repository: no VirtPortal.sln above " + AppContext.BaseDirectory);
    }
}
