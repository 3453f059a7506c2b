using IdentityServer.Accounts.Federation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The friendly end of a failed upstream sign-in (<see cref="ExternalFailure"/>): what happened in plain words and a
/// way back. Everything it shows comes from a fixed list; the query only chooses among them.
/// </summary>
public sealed class ExternalErrorModel(IAuthenticationSchemeProvider schemes) : PageModel
{
    public string Message { get; private set; } = "";
    public string BackUrl { get; private set; } = "/account/login";

    public async Task OnGetAsync(string? reason, string? provider, string? back)
    {
        var scheme = provider is null ? null : await schemes.GetSchemeAsync(provider);
        var name = scheme?.DisplayName ?? "the provider";
        var failure = Enum.TryParse<ExternalFailureReason>(reason, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : ExternalFailureReason.ProviderError;
        Message = failure switch
        {
            ExternalFailureReason.Cancelled => $"Signing in with {name} was cancelled, so you are not signed in.",
            ExternalFailureReason.Unreachable => $"We could not reach {name}. Try again in a moment, or sign in another way.",
            ExternalFailureReason.Malformed => $"{Capitalized(name)} sent an answer we could not understand. Try again, or sign in another way.",
            ExternalFailureReason.InvalidState => "This sign-in could not be verified: it may have taken too long, or started in another window. Please start again.",
            _ => $"{Capitalized(name)} could not sign you in. Try again in a moment, or sign in another way.",
        };
        if (back is not null && Url.IsLocalUrl(back))
        {
            BackUrl = back;
        }
    }

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
