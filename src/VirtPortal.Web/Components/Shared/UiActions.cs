using MudBlazor;
using VirtPortal.Core.Common;

namespace VirtPortal.Web.Components.Shared;

/// <summary>
/// Runs a user action and turns the portal's expected refusals into messages the user sees: field
/// errors go back to the form, denials, missing things and changes made against an older version to a snackbar. Anything else is a bug and
/// propagates to Blazor's error UI (and the log).
/// </summary>
public static class UiActions
{
    public static async Task<bool> TryAsync(ISnackbar snackbar, Func<Task> action, Action<PortalValidationException>? onInvalid = null, string? success = null)
    {
        ArgumentNullException.ThrowIfNull(snackbar);
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            await action();
            if (success is not null)
                snackbar.Add(success, Severity.Success);
            return true;
        }
        catch (PortalValidationException e)
        {
            if (onInvalid is not null)
                onInvalid(e);
            // Messages for the whole form ("" key), or every message when no form takes them.
            var general = onInvalid is null ? e.Errors.SelectMany(x => x.Value) : e.Errors.GetValueOrDefault("") ?? [];
            foreach (var message in general)
                snackbar.Add(message, Severity.Error);
            return false;
        }
        catch (PortalAccessDeniedException e)
        {
            snackbar.Add(e.Message, Severity.Error);
            return false;
        }
        catch (PortalNotFoundException e)
        {
            snackbar.Add(e.Message, Severity.Warning);
            return false;
        }
        catch (PortalConcurrencyException e)
        {
            // Someone else saved first: their change stands, this one did nothing.
            snackbar.Add(e.Message, Severity.Warning);
            return false;
        }
    }
}
