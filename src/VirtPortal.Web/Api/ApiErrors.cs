using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;

namespace VirtPortal.Web.Api;

/// <summary>
/// What a refused API call is told in its ProblemDetails, for an endpoint that does not say: "This {subject}
/// does not exist or you may not see it." Set on a group, or on an endpoint whose target is something else
/// (a request is made for a tenant).
/// </summary>
public sealed record ApiSubject(string Noun);

/// <summary>
/// The one translation of the portal's refusals into HTTP, for every /api/v1 endpoint. The texts are the
/// ones the UI shows, and field errors name the field as the JSON body names it (camelCase):
/// <list type="bullet">
/// <item>bad input (<see cref="PortalValidationException"/>): 422, with <c>errors</c> by field ("" for the whole request);</item>
/// <item>refused: 404, as an unknown target (unknown and forbidden look alike, as in DatabaseFilesApi), or 403
/// with the reason when the table gives one, which it tells only to those who may see the target;</item>
/// <item>not found: 404; a stale <c>If-Match</c> (<see cref="PortalConcurrencyException"/>): 412.</item>
/// </list>
/// </summary>
public static class ApiErrors
{
    public const string InvalidTitle = "The request is not valid.";

    /// <summary>Runs the endpoint and answers the portal's refusals as ProblemDetails.</summary>
    public static async ValueTask<object?> TranslateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            return await next(context);
        }
        catch (PortalValidationException e)
        {
            return Invalid(e.Errors);
        }
        catch (PortalAccessDeniedException e)
        {
            return e.Reason is { } reason
                ? TypedResults.Problem(reason, statusCode: StatusCodes.Status403Forbidden)
                : Unknown(context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<ApiSubject>());
        }
        catch (PortalNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status404NotFound);
        }
        catch (PortalConcurrencyException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status412PreconditionFailed);
        }
    }

    /// <summary>422 with the messages by field, the field named as in the JSON body ("TemplateId" → "templateId").</summary>
    public static ProblemHttpResult Invalid(IReadOnlyDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var byField = errors.ToDictionary(e => JsonField(e.Key), e => e.Value, StringComparer.Ordinal);
        return TypedResults.Problem(new HttpValidationProblemDetails(byField)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = InvalidTitle,
            Detail = string.Join(" ", errors.SelectMany(e => e.Value)),
        });
    }

    /// <summary>422 on one field.</summary>
    public static ProblemHttpResult Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>404 that says nothing of whether the target exists.</summary>
    public static ProblemHttpResult Unknown(ApiSubject? subject) =>
        TypedResults.Problem($"This {subject?.Noun ?? "item"} does not exist or you may not see it.", statusCode: StatusCodes.Status404NotFound);

    /// <summary>A field name of a Core input ("RequestedQuota.VCpus") as the JSON body spells it ("requestedQuota.vCpus").</summary>
    public static string JsonField(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return string.Join('.', field.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));
    }

    /// <summary>
    /// Under /api, the portal's status-code pages (HTML for browsers) are off, an error without a body (a body
    /// that did not bind, an unknown route) gets a ProblemDetails of its status, and a failure of the portal's
    /// own is a 500 ProblemDetails that names the trace id it was logged under, in every environment: never the
    /// HTML error page, nor the developer page (which echoes the request's headers, and so the token).
    /// </summary>
    public static IApplicationBuilder UseApiErrorBodies(this IApplicationBuilder app, PathString prefix)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseWhen(context => context.Request.Path.StartsWithSegments(prefix), api => api.Use(async (context, next) =>
        {
            if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
                pages.Enabled = false;
            var response = context.Response;
            try
            {
                await next(context);
            }
            catch (Exception e) when (!response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                // The id ProblemDetails carries as traceId, and the log's scopes as TraceId.
                var traceId = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiErrors)).LogError(e,
                    "API call {Method} {Path} failed (trace {TraceId})", context.Request.Method, context.Request.Path, traceId);
                response.Clear();
                await TypedResults.Problem(
                    $"The portal failed while answering this call. Check whether it took effect before repeating it (or repeat it with the same Idempotency-Key); an administrator finds it in the log under trace id {traceId}.",
                    statusCode: StatusCodes.Status500InternalServerError,
                    extensions: new Dictionary<string, object?> { ["traceId"] = traceId })
                    .ExecuteAsync(context);
                return;
            }

            if (response.StatusCode >= 400 && !response.HasStarted && response.ContentLength is null && string.IsNullOrEmpty(response.ContentType))
            {
                await context.RequestServices.GetRequiredService<IProblemDetailsService>()
                    .WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails =
                        {
                            Status = response.StatusCode,
                            Detail = response.StatusCode == StatusCodes.Status400BadRequest ? "The request could not be read: check its JSON body and its parameters." : null,
                        },
                    });
            }
        }));
    }
}
