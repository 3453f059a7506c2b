using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using IdentityServer.Data;
using IdentityServer.Hosting;
using IdentityServer.Hosting.Email;
using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Accounts.Email;

/// <summary>
/// The account email: what each message says and where its link points. Links carry Identity's own tokens
/// (<see cref="UserManager{TUser}"/>'s data-protection tokens: short-lived, bound to the user's security stamp, so a
/// password reset or an email change link works once) and are absolute from the configured issuer
/// (<c>Server:Issuer</c>), never from the request's Host header. Security notices go only to a verified address: an
/// unverified one may be somebody else's. Messages are queued (<see cref="EmailOutbox"/>), not sent during the request.
/// </summary>
public sealed class AccountEmails(EmailOutbox outbox, ServerOptions server, UserManager<ApplicationUser> users, AccountOptions accounts,
    IHttpContextAccessor http, BrandingOptions branding)
{
    public const string ConfirmEmailPath = "/account/confirm-email";
    public const string ConfirmEmailChangePath = "/account/confirm-email-change";
    public const string ResetPasswordPath = "/account/reset-password";

    /// <summary>Whether email can be sent at all (an SMTP server is configured).</summary>
    public bool Enabled => outbox.Enabled;

    private string LinkLifetime => accounts.EmailLinkLifetime.TotalMinutes >= 1
        ? $"{accounts.EmailLinkLifetime.TotalMinutes:0} minutes"
        : $"{accounts.EmailLinkLifetime.TotalSeconds:0} seconds";

    /// <summary>Asks the person to confirm their (unverified) address.</summary>
    public async Task<bool> SendVerificationAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!Enabled || string.IsNullOrEmpty(user.Email))
        {
            return false;
        }

        var code = await users.GenerateEmailConfirmationTokenAsync(user);
        var link = Link(ConfirmEmailPath, ("userId", user.Id), ("code", code));
        return Queue(user, user.Email, "email_verification", "Confirm your email address",
            [$"Confirm that {user.Email} is the email address of your account {user.UserName}.", $"The link works for {LinkLifetime}."],
            link, "Confirm my email address",
            "If you did not create this account, ignore this message.");
    }

    /// <summary>Sends the confirmation link of an email change to the NEW address; nothing changes until it is used.</summary>
    public async Task<bool> SendEmailChangeConfirmationAsync(ApplicationUser user, string newEmail)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!Enabled)
        {
            return false;
        }

        var code = await users.GenerateChangeEmailTokenAsync(user, newEmail);
        var link = Link(ConfirmEmailChangePath, ("userId", user.Id), ("email", newEmail), ("code", code));
        return Queue(user, newEmail, "email_change", "Confirm your new email address",
            [$"You asked to use {newEmail} as the email address of your account {user.UserName}.", $"The change is made when you open this link, which works once, for {LinkLifetime}."],
            link, "Use this email address",
            "If you did not ask for this, ignore this message: nothing changes.");
    }

    /// <summary>Tells the OLD address (when it was verified) that the account's email changed.</summary>
    public bool SendEmailChangedNotice(ApplicationUser user, string? oldEmail, bool oldEmailVerified, string newEmail)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!oldEmailVerified || string.IsNullOrEmpty(oldEmail))
        {
            return false;
        }

        return Queue(user, oldEmail, "email_changed_notice", "Your email address was changed",
            [$"The email address of your account {user.UserName} was changed to {Mask(newEmail)}. Messages about the account now go there."],
            null, null, "If you did not do this, reset your password now and contact the administrator.");
    }

    /// <summary>The password reset link (only to a verified address; the caller checks that the account may reset).</summary>
    public async Task<bool> SendPasswordResetAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!Enabled || !user.EmailConfirmed || string.IsNullOrEmpty(user.Email))
        {
            return false;
        }

        var code = await users.GeneratePasswordResetTokenAsync(user);
        var link = Link(ResetPasswordPath, ("userId", user.Id), ("code", code));
        return Queue(user, user.Email, "password_reset", "Reset your password",
            [$"Somebody, probably you, asked to reset the password of your account {user.UserName}.", $"The link works once, for {LinkLifetime}."],
            link, "Choose a new password",
            "If you did not ask for this, ignore this message: your password stays as it is.");
    }

    /// <summary>Tells the person their password was changed, set or reset.</summary>
    public bool SendPasswordChangedNotice(ApplicationUser user, string how)
    {
        ArgumentNullException.ThrowIfNull(user);
        return NoticeToVerified(user, "password_changed_notice", "Your password was changed",
            $"The password of your account {user.UserName} was {how}. Other sign-ins of the account were signed out.",
            "If you did not do this, reset your password now and contact the administrator.");
    }

    /// <summary>Tells the person about a change of their two-factor sign-in (turned on or off, new recovery codes, a recovery code used).</summary>
    public bool SendTwoFactorNotice(ApplicationUser user, string subject, string text)
    {
        ArgumentNullException.ThrowIfNull(user);
        return NoticeToVerified(user, "two_factor_notice", subject, text,
            "If you did not do this, change your password, check two-step verification under Security, and contact the administrator.");
    }

    /// <summary>Tells the person a provider (sign-in method) was linked to their account.</summary>
    public bool SendSignInMethodLinkedNotice(ApplicationUser user, string provider)
    {
        ArgumentNullException.ThrowIfNull(user);
        return NoticeToVerified(user, "sign_in_method_linked_notice", "A sign-in method was added to your account",
            $"{provider} was linked to your account {user.UserName}: it can now be used to sign in.",
            "If you did not do this, remove it under Sign-in methods, change your password, and contact the administrator.");
    }

    /// <summary>Tells the person a passkey was added to their account (or removed from it).</summary>
    public bool SendPasskeyNotice(ApplicationUser user, string passkeyName, bool added)
    {
        ArgumentNullException.ThrowIfNull(user);
        return added
            ? NoticeToVerified(user, "passkey_added_notice", "A passkey was added to your account",
                $"A passkey named \"{passkeyName}\" was added to your account {user.UserName}: it can now be used to sign in, and as the second step after your password.",
                "If you did not do this, remove it under Security, change your password, and contact the administrator.")
            : NoticeToVerified(user, "passkey_removed_notice", "A passkey was removed from your account",
                $"The passkey named \"{passkeyName}\" was removed from your account {user.UserName}; it no longer signs in. Other sign-ins of the account were signed out.",
                "If you did not do this, change your password, check Security, and contact the administrator.");
    }

    private bool NoticeToVerified(ApplicationUser user, string kind, string subject, string text, string footer) =>
        Enabled && user.EmailConfirmed && !string.IsNullOrEmpty(user.Email)
        && Queue(user, user.Email, kind, subject, [text], null, null, footer);

    private string Link(string path, params (string Name, string Value)[] query)
    {
        var builder = new StringBuilder(server.Issuer.TrimEnd('/')).Append(path);
        for (var i = 0; i < query.Length; i++)
        {
            builder.Append(i == 0 ? '?' : '&').Append(query[i].Name).Append('=').Append(Uri.EscapeDataString(query[i].Value));
        }

        return builder.ToString();
    }

    /// <summary>j***@example.com: enough for the owner to recognize, not a full address handed to the old mailbox.</summary>
    private static string Mask(string email)
    {
        var at = email.LastIndexOf('@');
        return at <= 0 ? "***" : email[0] + "***" + email[at..];
    }

    private bool Queue(ApplicationUser user, string to, string kind, string subject, string[] paragraphs, string? link, string? linkText, string footer)
    {
        var site = $"{branding.ProductName} · {new Uri(server.Issuer).Host}";
        var text = new StringBuilder();
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family: sans-serif; line-height: 1.5\">");
        foreach (var paragraph in paragraphs)
        {
            text.Append(paragraph).Append("\n\n");
            html.Append("<p>").Append(HtmlEncoder.Default.Encode(paragraph)).Append("</p>");
        }

        if (link is not null)
        {
            text.Append(linkText).Append(":\n").Append(link).Append("\n\n");
            html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{HtmlEncoder.Default.Encode(link)}\">{HtmlEncoder.Default.Encode(linkText!)}</a></p>");
        }

        text.Append(footer).Append("\n\n-- \n").Append(site).Append('\n');
        html.Append("<p>").Append(HtmlEncoder.Default.Encode(footer)).Append("</p>")
            .Append("<p style=\"color: #666\">").Append(HtmlEncoder.Default.Encode(site)).Append("</p></body></html>");
        return outbox.Enqueue(new EmailMessage(to, subject, text.ToString(), html.ToString())
        {
            Kind = kind,
            UserId = user.Id,
            CorrelationId = http.HttpContext is { } context ? CorrelationId.Get(context) : null,
        });
    }
}
