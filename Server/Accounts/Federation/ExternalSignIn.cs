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
    /// <summary>An account already uses this email, and it may not be linked automatically.</summary>
    EmailInUse,
    /// <summary>The user may not sign in now (locked out or disabled).</summary>
    LockedOut,
    /// <summary>The user could not be created; nothing was stored.</summary>
    Failed,
}

public sealed record ExternalSignInResult(ExternalSignInOutcome Outcome, ApplicationUser? User = null);

/// <summary>
/// Decides who a person signing in through a provider is, by the linking rule (docs/federation.md, "Linking rule"):
/// <list type="number">
/// <item>the account already linked to this provider account (provider, provider user id);</item>
/// <item>else, when an account already has the same email: link to it automatically only if the provider asserts the
/// email verified AND that account's email is verified; otherwise the person must sign in the usual way and link the
/// provider from the account page (linking on an unverified email would hand the account to whoever typed that
/// address on either side; OpenID Connect Core §5.7: only the provider's subject identifies a person, not the email);</item>
/// <item>else a new user, whose id is our own (never the provider's id, never the email), created together with its
/// external login in one transaction, so a failure leaves no half-created user.</item>
/// </list>
/// </summary>
public sealed class ExternalSignIn(IdentityDbContext db, UserManager<ApplicationUser> users, AccountLookup lookup, TimeProvider time, ILogger<ExternalSignIn> logger)
{
    public async Task<ExternalSignInResult> ResolveAsync(UserLoginInfo login, ExternalProfile profile, CancellationToken cancellationToken)
    {
        // A second pass only when another request created the same login or user name at the same moment.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var linked = await users.FindByLoginAsync(login.LoginProvider, login.ProviderKey);
            if (linked is not null)
            {
                return await AllowedAsync(linked, ExternalSignInOutcome.Existing);
            }

            var sameEmail = profile.Email is null ? [] : await lookup.WithEmailAsync(profile.Email, 2, cancellationToken);
            if (sameEmail.Count > 0)
            {
                if (!profile.EmailVerified || sameEmail is not [{ EmailConfirmed: true } owner])
                {
                    logger.LogInformation("Sign-in with {Provider}: an account already uses the email, not linked automatically (provider verified: {Verified})",
                        login.LoginProvider, profile.EmailVerified);
                    return new ExternalSignInResult(ExternalSignInOutcome.EmailInUse);
                }

                if (await users.IsLockedOutAsync(owner))
                {
                    return new ExternalSignInResult(ExternalSignInOutcome.LockedOut);
                }

                var added = await users.AddLoginAsync(owner, login);
                if (added.Succeeded)
                {
                    logger.LogInformation("Linked {Provider} to user {UserId} by verified email", login.LoginProvider, owner.Id);
                    return new ExternalSignInResult(ExternalSignInOutcome.Linked, owner);
                }

                db.ChangeTracker.Clear();
                continue;
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

    private async Task<ExternalSignInResult> AllowedAsync(ApplicationUser user, ExternalSignInOutcome outcome) =>
        await users.IsLockedOutAsync(user) ? new ExternalSignInResult(ExternalSignInOutcome.LockedOut) : new ExternalSignInResult(outcome, user);

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
