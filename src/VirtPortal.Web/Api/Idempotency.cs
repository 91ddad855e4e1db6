using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using VirtPortal.Core.Api;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Api;

/// <summary>Marks the endpoints that honour <c>Idempotency-Key</c>: every POST of the API.</summary>
public sealed class IdempotentEndpoint
{
    public static IdempotentEndpoint Instance { get; } = new();
}

/// <summary>
/// Marks an endpoint whose answer holds a secret shown once (a database's password, a set-password link): its
/// answer is never kept for a replay, so the secret is not stored beside it; a repeat runs again and is told what
/// the first left (shown already, already exists).
/// </summary>
public sealed class SecretAnswer
{
    public static SecretAnswer Instance { get; } = new();
}

/// <summary>
/// Marks an endpoint that creates something and answers with its secret once (an API token, a webhook's signing
/// secret): a repeat must not create a second one, so its answer is kept for the replay like any other, but
/// encrypted with the portal's data-protection keys, never in clear.
/// </summary>
public sealed class ProtectedAnswer
{
    public const string Purpose = "VirtPortal.Idempotency.ProtectedAnswer";

    public static ProtectedAnswer Instance { get; } = new();
}

/// <summary>
/// <c>Idempotency-Key</c> on a POST, as Stripe has it: the first request with a key runs and its answer is kept
/// 24 hours; a repeat with the same method, path and body gets that answer again (with
/// <c>Idempotent-Replayed: true</c>) and runs nothing; a repeat with anything else gets 422. Repeats that arrive
/// while the first still runs wait for it in this process (<see cref="KeyedGate"/>); the store's unique key
/// settles the rest. An answer of 500 or more is not kept, so the client can try again. Keys are per user.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next, IdempotencyStore store, KeyedGate gate, IDataProtectionProvider protection)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!HttpMethods.IsPost(context.Request.Method) || context.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpoint>() is null
            || context.GetEndpoint()?.Metadata.GetMetadata<SecretAnswer>() is not null
            || !context.Request.Headers.TryGetValue(Header, out var values) || ActorAccessor.FromPrincipal(context.User) is not { } actor)
        {
            await next(context);
            return;
        }

        var key = values.ToString();
        if (values.Count != 1 || key.Length is 0 or > IdempotencyStore.KeyMaxLength)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, $"Send one {Header} of 1 to {IdempotencyStore.KeyMaxLength} characters.");
            return;
        }

        var ct = context.RequestAborted;
        var protector = context.GetEndpoint()?.Metadata.GetMetadata<ProtectedAnswer>() is null ? null : protection.CreateProtector(ProtectedAnswer.Purpose);
        var hash = await HashAsync(context.Request, ct);
        using var held = await gate.EnterAsync(actor.UserId + "\n" + key, ct);
        var claim = await store.ClaimAsync(actor.UserId, key, hash, ct);
        switch (claim.Outcome)
        {
            case IdempotencyOutcome.Replay:
                await ReplayAsync(context, claim.Record, protector);
                return;
            case IdempotencyOutcome.Mismatch:
                await ProblemAsync(context, StatusCodes.Status422UnprocessableEntity,
                    $"This {Header} was used for another request in the last 24 hours. Use a new key for a new request.");
                return;
            case IdempotencyOutcome.InProgress:
                await ProblemAsync(context, StatusCodes.Status409Conflict, $"The first request with this {Header} is still running. Repeat it later.");
                return;
        }

        await RunAndKeepAsync(context, claim.Record.Id, protector);
    }

    private async Task RunAndKeepAsync(HttpContext context, long recordId, IDataProtector? protector)
    {
        var response = context.Response;
        var original = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        try
        {
            await next(context);
        }
        catch
        {
            response.Body = original;
            await store.ReleaseAsync(recordId, CancellationToken.None);
            throw;
        }

        response.Body = original;
        // Kept whatever the client does now: the change, if any, is made.
        if (response.StatusCode >= StatusCodes.Status500InternalServerError)
            await store.ReleaseAsync(recordId, CancellationToken.None);
        else
            await store.CompleteAsync(recordId, new IdempotentResponse(
                response.StatusCode, response.ContentType, response.Headers.Location.ToString() is { Length: > 0 } location ? location : null,
                response.Headers.ETag.ToString() is { Length: > 0 } etag ? etag : null,
                protector is null ? buffer.ToArray() : protector.Protect(buffer.ToArray())), CancellationToken.None);
        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord record, IDataProtector? protector)
    {
        var body = record.Body;
        if (protector is not null && body is { Length: > 0 })
        {
            try
            {
                body = protector.Unprotect(body);
            }
            catch (CryptographicException)
            {
                // The keys it was kept under are gone (a new machine without the key ring): the change is made, but its
                // answer cannot be given again.
                await ProblemAsync(context, StatusCodes.Status409Conflict,
                    $"The first request with this {Header} succeeded, but its answer can no longer be read. Look the result up, or use a new key.");
                return;
            }
        }

        var response = context.Response;
        response.StatusCode = record.StatusCode;
        if (record.ContentType is { } type)
            response.ContentType = type;
        if (record.Location is { } location)
            response.Headers.Location = location;
        if (record.ETag is { } etag)
            response.Headers.ETag = etag;
        response.Headers[ReplayedHeader] = "true";
        if (body is { Length: > 0 })
            await response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static Task ProblemAsync(HttpContext context, int status, string detail) =>
        TypedResults.Problem(detail, statusCode: status).ExecuteAsync(context);

    /// <summary>SHA-256 of the method, the path with its query, and the body (read, then rewound for the endpoint).</summary>
    private static async Task<string> HashAsync(HttpRequest request, CancellationToken ct)
    {
        request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}{request.QueryString}\n"));
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            sha.AppendData(chunk, 0, read);
        request.Body.Position = 0;
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>One holder at a time per key, in this process; a key's entry lives while someone holds or waits for it.</summary>
public sealed class KeyedGate
{
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Lock sync = new();

    public async Task<IDisposable> EnterAsync(string key, CancellationToken ct)
    {
        Entry entry;
        lock (sync)
        {
            if (!entries.TryGetValue(key, out entry!))
                entries[key] = entry = new Entry();
            entry.Users++;
        }

        try
        {
            await entry.Semaphore.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            Leave(key, entry, held: false);
            throw;
        }

        return new Held(this, key, entry);
    }

    private void Leave(string key, Entry entry, bool held)
    {
        if (held)
            entry.Semaphore.Release();
        lock (sync)
        {
            if (--entry.Users > 0)
                return;
            entries.Remove(key);
            entry.Semaphore.Dispose();
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Held(KeyedGate gate, string key, Entry entry) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
                gate.Leave(key, entry, held: true);
        }
    }
}
