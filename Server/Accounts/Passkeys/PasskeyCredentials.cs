using IdentityServer.Accounts.Email;
using IdentityServer.Audit;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts.Passkeys;

/// <summary>One of the person's passkeys as the account page shows it. <see cref="Id"/> is the credential id, base64url.</summary>
public sealed record PasskeySummary(string Id, string Name, DateTimeOffset CreatedAt, bool BackedUp);

public enum PasskeyEnrolment
{
    Added,

    /// <summary>No ceremony of this browser is waiting (none begun, its five minutes over, or already used).</summary>
    Expired,

    /// <summary>The authenticator's answer did not hold (wrong origin or RP ID, challenge, a credential already registered...).</summary>
    Refused,

    /// <summary>The account has <see cref="PasskeyCredentials.MaxPerAccount"/> passkeys already.</summary>
    TooMany,
}

/// <summary>
/// A person's own passkeys: adding one (Identity's attestation ceremony; the challenge waits in Identity's short-lived,
/// data-protected two-factor cookie), naming, listing and removing them. Every change is audited and a notice goes to the
/// verified address. Removing one changes the security stamp: the account's other sessions end.
/// </summary>
public sealed class PasskeyCredentials(SignInManager<ApplicationUser> signIn, AccountEmails emails, AuditLog audit, ILogger<PasskeyCredentials> logger)
{
    public const int MaxPerAccount = 20;
    public const int MaxNameLength = 64;

    private UserManager<ApplicationUser> Users => signIn.UserManager;

    public async Task<IReadOnlyList<PasskeySummary>> ListAsync(ApplicationUser user)
    {
        var passkeys = await Users.GetPasskeysAsync(user);
        return [.. passkeys.OrderBy(p => p.CreatedAt).Select(p => new PasskeySummary(
            WebEncoders.Base64UrlEncode(p.CredentialId), p.Name ?? "Passkey", p.CreatedAt, p.IsBackedUp))];
    }

    public async Task<bool> HasAnyAsync(ApplicationUser user) => (await Users.GetPasskeysAsync(user)).Count > 0;

    /// <summary>The options for <c>navigator.credentials.create()</c>, as JSON; null when the account has as many passkeys as it may.</summary>
    public async Task<string?> CreationOptionsAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if ((await Users.GetPasskeysAsync(user)).Count >= MaxPerAccount)
        {
            return null;
        }

        var name = user.UserName ?? user.Id;
        return await signIn.MakePasskeyCreationOptionsAsync(new PasskeyUserEntity { Id = user.Id, Name = name, DisplayName = user.Name ?? name });
    }

    /// <summary>Checks the authenticator's answer to the ceremony this browser began, and stores the new passkey under <paramref name="name"/>.</summary>
    public async Task<PasskeyEnrolment> AddAsync(ApplicationUser user, string? credentialJson, string? name)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(credentialJson))
        {
            return await RefuseAsync(user, PasskeyEnrolment.Refused, "no_credential");
        }

        PasskeyAttestationResult result;
        try
        {
            result = await signIn.PerformPasskeyAttestationAsync(credentialJson);
        }
        catch (InvalidOperationException)
        {
            // Identity's way of saying no ceremony is under way in this browser.
            return await RefuseAsync(user, PasskeyEnrolment.Expired, "no_ceremony");
        }

        if (!result.Succeeded)
        {
            return await RefuseAsync(user, PasskeyEnrolment.Refused, result.Failure.Message);
        }

        if (!string.Equals(result.UserEntity.Id, user.Id, StringComparison.Ordinal))
        {
            // The ceremony was begun for another account in this browser: the passkey would carry that account's user handle.
            return await RefuseAsync(user, PasskeyEnrolment.Refused, "ceremony_of_another_account");
        }

        var count = (await Users.GetPasskeysAsync(user)).Count;
        if (count >= MaxPerAccount)
        {
            return await RefuseAsync(user, PasskeyEnrolment.TooMany, "too_many");
        }

        var passkey = result.Passkey;
        passkey.Name = CleanName(name) ?? $"Passkey {count + 1}";
        IdentityResult saved;
        try
        {
            saved = await Users.AddOrUpdatePasskeyAsync(user, passkey);
        }
        catch (DbUpdateException)
        {
            // Two ceremonies raced with one credential: its id is the table's key, and the other one won.
            return await RefuseAsync(user, PasskeyEnrolment.Refused, "credential_already_registered");
        }

        if (!saved.Succeeded)
        {
            return await RefuseAsync(user, PasskeyEnrolment.Refused, string.Join(", ", saved.Errors.Select(e => e.Code)));
        }

        logger.LogInformation("User {UserId} added a passkey", user.Id);
        await audit.RecordAccountAsync(user, "passkey.added", AuditOutcomes.Success,
            new { Passkey = passkey.Name, UserVerified = passkey.IsUserVerified, BackupEligible = passkey.IsBackupEligible });
        emails.SendPasskeyNotice(user, passkey.Name, added: true);
        return PasskeyEnrolment.Added;
    }

    /// <summary>Renames one of the person's own passkeys; false when <paramref name="id"/> is not one of theirs.</summary>
    public async Task<bool> RenameAsync(ApplicationUser user, string? id, string? name)
    {
        ArgumentNullException.ThrowIfNull(user);
        var passkey = await FindOwnAsync(user, id);
        var cleaned = CleanName(name);
        if (passkey is null || cleaned is null)
        {
            return false;
        }

        var before = passkey.Name;
        passkey.Name = cleaned;
        if (!(await Users.AddOrUpdatePasskeyAsync(user, passkey)).Succeeded)
        {
            return false;
        }

        await audit.RecordAccountAsync(user, "passkey.renamed", AuditOutcomes.Success, new { Before = before, After = cleaned });
        return true;
    }

    /// <summary>
    /// Removes one of the person's own passkeys and ends the account's other sessions (a passkey is removed when it may be
    /// in the wrong hands). With neither a passkey nor an authenticator app left, the recovery codes go too.
    /// </summary>
    public async Task<bool> RemoveAsync(ApplicationUser user, string? id)
    {
        ArgumentNullException.ThrowIfNull(user);
        var passkey = await FindOwnAsync(user, id);
        if (passkey is null || !(await Users.RemovePasskeyAsync(user, passkey.CredentialId)).Succeeded)
        {
            await audit.RecordAccountAsync(user, "passkey.removed", AuditOutcomes.Failure, new { Reason = "not_found" });
            return false;
        }

        if (!await Users.GetTwoFactorEnabledAsync(user) && !await HasAnyAsync(user))
        {
            await Users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        }

        await Users.UpdateSecurityStampAsync(user);
        logger.LogInformation("User {UserId} removed a passkey", user.Id);
        await audit.RecordAccountAsync(user, "passkey.removed", AuditOutcomes.Success, new { Passkey = passkey.Name });
        emails.SendPasskeyNotice(user, passkey.Name ?? "Passkey", added: false);
        return true;
    }

    /// <summary>Only the person's own passkeys are found: the id comes from the request, so it is looked up under this user.</summary>
    private async Task<UserPasskeyInfo?> FindOwnAsync(ApplicationUser user, string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 1400)
        {
            return null;
        }

        byte[] credentialId;
        try
        {
            credentialId = WebEncoders.Base64UrlDecode(id);
        }
        catch (FormatException)
        {
            return null;
        }

        return await Users.GetPasskeyAsync(user, credentialId);
    }

    private async Task<PasskeyEnrolment> RefuseAsync(ApplicationUser user, PasskeyEnrolment outcome, string reason)
    {
        logger.LogInformation("Passkey for user {UserId} not added: {Reason}", user.Id, reason);
        await audit.RecordAccountAsync(user, "passkey.added", AuditOutcomes.Failure, new { Reason = reason });
        return outcome;
    }

    /// <summary>A name as typed, trimmed, without control characters, at most <see cref="MaxNameLength"/> characters; null when nothing is left.</summary>
    public static string? CleanName(string? name)
    {
        var cleaned = new string([.. (name ?? "").Where(c => !char.IsControl(c))]).Trim();
        return cleaned.Length == 0 ? null : cleaned.Length > MaxNameLength ? cleaned[..MaxNameLength].TrimEnd() : cleaned;
    }
}
