using System.Security.Cryptography;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Clients;

/// <summary>A stored client as admins see it. The secret itself is never part of it, only whether there is one.</summary>
public sealed record ClientView(ClientDefinition Definition, string Id, bool Enabled, DateTime CreatedAt, bool HasSecret, DateTime? PreviousSecretExpiresAt);

/// <summary>A client and, when one was just generated, its plaintext secret: the only time it is ever seen.</summary>
public sealed record ClientWithSecret(ClientView Client, string? ClientSecret);

/// <summary>What <see cref="ClientRegistry.CreateAsync"/> did: the new client, or why not (<see cref="Conflict"/>: the client_id is taken).</summary>
public sealed record ClientCreation(ClientWithSecret? Created, ClientMetadataError? Error, bool Conflict = false);

/// <summary>
/// Registers new clients, for the admin (API, pages, command line) and for dynamic registration (RFC 7591) alike: the
/// definition is checked against the scopes that exist now, the registration is audited in the same unit of work, and
/// the client cache is invalidated at once.
/// </summary>
public sealed class ClientRegistry(
    IdentityDbContext db,
    ClientStore store,
    ScopeCatalog scopes,
    IGrantTypeCatalog grantTypes,
    OutboundOptions outbound,
    AuditLog audit,
    TimeProvider time)
{
    /// <summary>How the audit log names a client.</summary>
    public static string AuditTarget(string clientId) => "client:" + clientId;

    public async Task<ClientCreation> CreateAsync(ClientDefinition definition, AdminActor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (await ValidateAsync(definition, cancellationToken) is { } error)
        {
            return new ClientCreation(null, error);
        }

        definition.ClientId ??= NewClientId();
        var clientId = definition.ClientId;
        if (await db.Applications.AnyAsync(a => a.ClientId == clientId, cancellationToken))
        {
            return new ClientCreation(null, Taken(clientId), Conflict: true);
        }

        var row = new OAuthApplication
        {
            ClientId = clientId,
            ClientType = definition.ClientType,
            ConsentType = definition.ConsentType,
            DisplayName = clientId,
            CreationDate = time.GetUtcNow().UtcDateTime,
        };
        definition.ApplyTo(row);
        var secret = definition.UsesSecret ? ClientSecrets.Generate() : null;
        row.ClientSecretHash = secret is null ? null : ClientSecrets.Hash(secret);
        db.Applications.Add(row);
        audit.AddAdminChange(actor, "client.created", AuditTarget(clientId), definition);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another admin registered the same client_id between the check and the insert (the unique index decided).
            db.ChangeTracker.Clear();
            return new ClientCreation(null, Taken(clientId), Conflict: true);
        }

        store.Invalidate(clientId); // a cached "no such client" must not outlive the registration
        return new ClientCreation(new ClientWithSecret(View(row), secret), null);
    }

    /// <summary>
    /// Validates against the grant types the token endpoint serves and the scopes that exist now, and refuses a URL the
    /// server would fetch (back-channel logout) that names a non-public host: SSRF is refused at registration, and again
    /// at every connection by the outbound client.
    /// </summary>
    public async Task<ClientMetadataError?> ValidateAsync(ClientDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var known = await scopes.GetAllAsync(cancellationToken);
        if (ClientMetadataValidator.Validate(definition, grantTypes, known.Keys.ToHashSet(StringComparer.Ordinal)) is { } error)
        {
            return error;
        }

        if (definition.Settings.BackchannelLogoutUri is { Length: > 0 } logoutUri
            && await OutboundAddressPolicy.CheckAsync(new Uri(logoutUri), outbound.AllowLoopback, cancellationToken) is { } problem)
        {
            return new ClientMetadataError(RegistrationErrors.InvalidClientMetadata,
                $"backchannel_logout_uri: {problem} The server sends requests only to public addresses.", "backchannel_logout_uri");
        }

        if (definition.Settings.JwksUri is { Length: > 0 } jwksUri
            && await OutboundAddressPolicy.CheckAsync(new Uri(jwksUri), outbound.AllowLoopback, cancellationToken) is { } jwksProblem)
        {
            return new ClientMetadataError(RegistrationErrors.InvalidClientMetadata,
                $"jwks_uri: {jwksProblem} The server sends requests only to public addresses.", "jwks_uri");
        }

        return null;
    }

    public static ClientView View(OAuthApplication row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new ClientView(ClientDefinition.From(row), row.Id, row.Enabled, Utc(row.CreationDate), row.ClientSecretHash is not null,
            row.PreviousSecretExpiresAt is { } expires ? Utc(expires) : null);
    }

    /// <summary>A client_id for a client registered without one: 128 random bits, base64url.</summary>
    public static string NewClientId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));

    private static ClientMetadataError Taken(string clientId) =>
        new(RegistrationErrors.InvalidClientMetadata, $"The client_id '{clientId}' is already registered.", "client_id");

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
