using System.Security.Cryptography;
using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Accounts.Federation;

public enum ExternalSignInOutcome
{
    /// <summary>The provider account was already linked to this user.</summary>
    Existing,
    /// <summary>Linked now to the existing user with the same verified email.</summary>
    Linked,
    /// <summary>A new user was created for it.</summary>
    Created,
    /// <summary>An account already uses this verified email, and it may not be linked automatically.</summary>
    EmailInUse,
    /// <summary>No account is linked or may be linked, and accounts may not be created through providers.</summary>
    RegistrationClosed,
    /// <summary>The user is disabled by an admin (a password locked after wrong attempts does not count).</summary>
    Disabled,
    /// <summary>The user could not be created; nothing was stored.</summary>
    Failed,
}

/// <summary>The decision; <paramref name="Reason"/> says, for the logs, why an account was not linked.</summary>
public sealed record ExternalSignInResult(ExternalSignInOutcome Outcome, ApplicationUser? User = null, string? Reason = null);

/// <summary>
/// Decides who a person signing in through a provider is, by the linking rule (docs/federation.md, "Linking rule"):
/// <list type="number">
/// <item>the account already linked to this provider account (provider, provider user id);</item>
/// <item>else, only when the provider asserts the email verified: the one account whose verified email is exactly that
/// address. It is linked automatically only when nothing about it needs more proof than the provider's word on the
/// email: no password, no role (admin), and no login of the same provider under another provider user id. Otherwise
/// the person must sign in to that account and link the provider from the account page. (OpenID Connect Core §5.7:
/// only the provider's subject identifies a person, not the email; an email is a hint that must not hand over an
/// account stronger than the provider's word.)</item>
/// <item>else a new user, when accounts may be created through providers (<see cref="AccountOptions.ProviderRegistrationAllowed"/>),
/// whose id is our own (never the provider's id, never the email), created together with its external login in one
/// transaction, so a failure leaves no half-created user.</item>
/// </list>
/// An unverified email (the provider's, or an account's) neither links nor blocks anything, like a local registration's:
/// otherwise anyone could type an address at a provider that does not verify it and learn from the answer whether it is
/// registered here.
/// </summary>
public sealed class ExternalSignIn(IdentityDbContext db, UserManager<ApplicationUser> users, AccountLookup lookup, AccountOptions accounts, TimeProvider time,
    ILogger<ExternalSignIn> logger)
{
    public async Task<ExternalSignInResult> ResolveAsync(UserLoginInfo login, ExternalProfile profile, CancellationToken cancellationToken)
    {
        // A second pass only when another request created the same login or user name at the same moment.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var linked = await users.FindByLoginAsync(login.LoginProvider, login.ProviderKey);
            if (linked is not null)
            {
                // A password locked after wrong attempts does not stop a provider sign-in; an account an admin disabled does.
                return IsDisabled(linked) ? new ExternalSignInResult(ExternalSignInOutcome.Disabled) : new ExternalSignInResult(ExternalSignInOutcome.Existing, linked);
            }

            var holders = profile is { EmailVerified: true, Email: { } email } ? await lookup.WithVerifiedEmailAsync(email, 2, cancellationToken) : [];
            var holderLogins = holders is [var holder] ? await users.GetLoginsAsync(holder) : [];
            if (holderLogins.Any(l => l.LoginProvider == login.LoginProvider && l.ProviderKey == login.ProviderKey))
            {
                // Another request of the same first sign-in created this very login a moment ago (after the lookup above):
                // the account is this provider account's own, not one to link by email.
                return IsDisabled(holders[0]) ? new ExternalSignInResult(ExternalSignInOutcome.Disabled) : new ExternalSignInResult(ExternalSignInOutcome.Existing, holders[0]);
            }

            if (holders.Count > 0)
            {
                var refusal = holders is not [var owner] ? "several accounts hold the address"
                    : !AccountLookup.SameAddress(owner.Email, profile.Email) ? "only a look-alike address matches"
                    : await WhyNotLinkableAsync(owner, holderLogins, login);
                if (refusal is not null)
                {
                    logger.LogInformation("Sign-in with {Provider}: an account already uses the verified email, not linked automatically: {Reason}",
                        login.LoginProvider, refusal);
                    return new ExternalSignInResult(ExternalSignInOutcome.EmailInUse, Reason: refusal);
                }

                var target = holders[0];
                if (IsDisabled(target))
                {
                    return new ExternalSignInResult(ExternalSignInOutcome.Disabled);
                }

                var added = await users.AddLoginAsync(target, login);
                if (added.Succeeded)
                {
                    logger.LogInformation("Linked {Provider} to user {UserId} by verified email", login.LoginProvider, target.Id);
                    return new ExternalSignInResult(ExternalSignInOutcome.Linked, target);
                }

                db.ChangeTracker.Clear();
                continue;
            }

            if (!accounts.ProviderRegistrationAllowed)
            {
                logger.LogInformation("Sign-in with {Provider}: no account to sign in, and registration through providers is closed", login.LoginProvider);
                return new ExternalSignInResult(ExternalSignInOutcome.RegistrationClosed, Reason: "registration closed");
            }

            var created = await TryCreateAsync(login, profile, cancellationToken);
            if (created is not null)
            {
                logger.LogInformation("Created user {UserId} from {Provider}", created.Id, login.LoginProvider);
                return new ExternalSignInResult(ExternalSignInOutcome.Created, created);
            }
        }

        return new ExternalSignInResult(ExternalSignInOutcome.Failed);
    }

    /// <summary>
    /// Why this account may not be handed over on the provider's word about the email, or null when it may. Each of these
    /// accounts holds something the email does not prove: a password (its owner may never have used this provider, and
    /// whoever controls the address at the provider would otherwise bypass the password), a role (an admin account is
    /// never taken over by email), or another account at the same provider (the same provider now vouching for a second
    /// provider account with the address is not the person who linked the first).
    /// </summary>
    private async Task<string?> WhyNotLinkableAsync(ApplicationUser owner, IList<UserLoginInfo> ownerLogins, UserLoginInfo login)
    {
        if (await users.HasPasswordAsync(owner))
        {
            return "the account has a password";
        }

        if ((await users.GetRolesAsync(owner)).Count > 0)
        {
            return "the account has a role";
        }

        if (ownerLogins.Any(l => l.LoginProvider == login.LoginProvider))
        {
            return "the account has another login of this provider";
        }

        return null;
    }

    private bool IsDisabled(ApplicationUser user) => AccountStatus.IsDisabled(user, time.GetUtcNow());

    private async Task<ApplicationUser?> TryCreateAsync(UserLoginInfo login, ExternalProfile profile, CancellationToken cancellationToken)
    {
        var user = new ApplicationUser
        {
            UserName = await FreeUserNameAsync(profile.Handle),
            Email = profile.Email,
            EmailConfirmed = profile.EmailVerified,
            Name = profile.Name,
            Picture = profile.Picture,
            UpdatedAt = time.GetUtcNow().UtcDateTime,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            var result = await users.CreateAsync(user);
            if (result.Succeeded)
            {
                result = await users.AddLoginAsync(user, login);
            }

            if (result.Succeeded)
            {
                await transaction.CommitAsync(cancellationToken);
                return user;
            }

            logger.LogWarning("Creating a user from {Provider} failed: {Errors}", login.LoginProvider, string.Join("; ", result.Errors.Select(e => e.Code)));
        }
        catch (DbUpdateException e)
        {
            // A unique index said no: the same login or user name was just created by another request.
            logger.LogInformation(e, "Creating a user from {Provider} collided with a concurrent sign-in", login.LoginProvider);
        }

        await transaction.RollbackAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return null;
    }

    /// <summary>The provider's handle (GitHub login, Discord username, email local part) if free, else with a random suffix.</summary>
    private async Task<string> FreeUserNameAsync(string? handle)
    {
        // Only characters Identity's default AllowedUserNameCharacters accepts.
        var stem = new string((handle ?? "").Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_').Take(40).ToArray());
        if (stem.Length == 0)
        {
            stem = "user";
        }

        if (await users.FindByNameAsync(stem) is null)
        {
            return stem;
        }

        for (var tries = 0; tries < 4; tries++)
        {
            var candidate = stem + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            if (await users.FindByNameAsync(candidate) is null)
            {
                return candidate;
            }
        }

        return stem + "-" + Guid.NewGuid().ToString("N");
    }
}
