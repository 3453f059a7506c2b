using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Data;

/// <summary>The one database of the server. Column types are left to the provider so the same migrations run everywhere.</summary>
public sealed class IdentityDbContext(DbContextOptions<IdentityDbContext> options)
    : IdentityDbContext<ApplicationUser>(options), IDataProtectionKeyContext
{
    public DbSet<OAuthApplication> Applications => Set<OAuthApplication>();
    public DbSet<OAuthAuthorization> Authorizations => Set<OAuthAuthorization>();
    public DbSet<OAuthToken> Tokens => Set<OAuthToken>();
    public DbSet<OAuthScope> Scopes => Set<OAuthScope>();
    public DbSet<RevokedAccessToken> RevokedAccessTokens => Set<RevokedAccessToken>();
    public DbSet<UserSession> Sessions => Set<UserSession>();
    /// <summary>The Data Protection key ring (Microsoft.AspNetCore.DataProtection.EntityFrameworkCore reads and writes it).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<InitialAccessToken> InitialAccessTokens => Set<InitialAccessToken>();
    public DbSet<PushedAuthorizationRequest> PushedAuthorizationRequests => Set<PushedAuthorizationRequest>();
    public DbSet<UsedClientAssertion> UsedClientAssertions => Set<UsedClientAssertion>();
    public DbSet<DPoPProofJti> DPoPProofJtis => Set<DPoPProofJti>();
    public DbSet<DeviceCode> DeviceCodes => Set<DeviceCode>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<ApplicationUser>(user =>
        {
            user.Property(u => u.Name).HasMaxLength(256);
            user.Property(u => u.Picture).HasMaxLength(2048);
            // Identity's schema version 3 (chosen for its passkey table) would also bound the phone number and the
            // login and token keys (256 and 128); the tables keep the shape they have had since the first migration,
            // so existing rows never need to fit a new limit.
            user.Property(u => u.PhoneNumber).Metadata.SetMaxLength(null);
        });
        builder.Entity<Microsoft.AspNetCore.Identity.IdentityUserLogin<string>>(login =>
        {
            login.Property(l => l.LoginProvider).Metadata.SetMaxLength(null);
            login.Property(l => l.ProviderKey).Metadata.SetMaxLength(null);
        });
        builder.Entity<Microsoft.AspNetCore.Identity.IdentityUserToken<string>>(token =>
        {
            token.Property(t => t.LoginProvider).Metadata.SetMaxLength(null);
            token.Property(t => t.Name).Metadata.SetMaxLength(null);
        });

        builder.Entity<OAuthApplication>(app =>
        {
            app.ToTable("Applications");
            app.HasKey(a => a.Id);
            app.Property(a => a.Id).HasMaxLength(64);
            app.Property(a => a.ClientId).HasMaxLength(100).IsRequired();
            app.HasIndex(a => a.ClientId).IsUnique();
            app.Property(a => a.ClientSecretHash).HasMaxLength(128);
            app.Property(a => a.PreviousClientSecretHash).HasMaxLength(128);
            app.Property(a => a.ClientType).HasMaxLength(32).IsRequired();
            app.Property(a => a.ConsentType).HasMaxLength(32).IsRequired();
            app.Property(a => a.DisplayName).HasMaxLength(200).IsRequired();
            app.Property(a => a.LogoUri).HasMaxLength(2048);
            app.Property(a => a.ClientUri).HasMaxLength(2048);
            app.Property(a => a.ConcurrencyToken).HasMaxLength(64).IsConcurrencyToken();
        });

        builder.Entity<OAuthAuthorization>(auth =>
        {
            auth.ToTable("Authorizations");
            auth.HasKey(a => a.Id);
            auth.Property(a => a.Id).HasMaxLength(64);
            auth.Property(a => a.ApplicationId).HasMaxLength(64).IsRequired();
            auth.Property(a => a.Subject).HasMaxLength(400).IsRequired();
            auth.Property(a => a.Status).HasMaxLength(50).IsRequired();
            auth.Property(a => a.Type).HasMaxLength(50).IsRequired();
            auth.Property(a => a.SessionId).HasMaxLength(64);
            auth.Property(a => a.ConcurrencyToken).HasMaxLength(64).IsConcurrencyToken();
            auth.HasOne(a => a.Application).WithMany().HasForeignKey(a => a.ApplicationId).OnDelete(DeleteBehavior.Cascade);
            auth.HasIndex(a => new { a.ApplicationId, a.Status, a.Subject, a.Type });
            auth.HasIndex(a => a.Subject);
            auth.HasIndex(a => a.SessionId);
            // Pruning finds dead grants by age without scanning the table.
            auth.HasIndex(a => a.CreationDate);
        });

        builder.Entity<OAuthToken>(token =>
        {
            token.ToTable("Tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.Id).HasMaxLength(64);
            token.Property(t => t.ApplicationId).HasMaxLength(64).IsRequired();
            token.Property(t => t.AuthorizationId).HasMaxLength(64);
            token.Property(t => t.Subject).HasMaxLength(400).IsRequired();
            token.Property(t => t.Type).HasMaxLength(50).IsRequired();
            token.Property(t => t.Status).HasMaxLength(50).IsRequired();
            token.Property(t => t.ReferenceId).HasMaxLength(100).IsRequired();
            token.Property(t => t.ConcurrencyToken).HasMaxLength(64).IsConcurrencyToken();
            token.HasIndex(t => t.ReferenceId).IsUnique();
            // For the cascade from a deleted client only. Status is in no index: redeeming a token rewrites only its row
            // (TokenStatusIndex migration).
            token.HasIndex(t => t.ApplicationId);
            token.HasIndex(t => t.AuthorizationId);
            // Pruning walks expired rows through this index instead of scanning the table.
            token.HasIndex(t => t.ExpirationDate);
            // Pruning walks the tokens older than its retention window in windows of this index (PruningIndexes migration).
            token.HasIndex(t => t.CreationDate);
            // SQL Server refuses two cascade paths from one table to another ("may cause cycles or multiple cascade
            // paths"): Applications -> Tokens directly, and Applications -> Authorizations -> Tokens. Every stored token
            // belongs to a grant of its own client (TokenFamilies), so the grants' cascade deletes a deleted client's
            // tokens; on SQL Server the direct key does not cascade in the database (ClientCascade: EF still deletes the
            // tokens it tracks). The Initial migration says the same.
            token.HasOne(t => t.Application).WithMany().HasForeignKey(t => t.ApplicationId)
                .OnDelete(Database.IsMsSqlServer() ? DeleteBehavior.ClientCascade : DeleteBehavior.Cascade);
            token.HasOne(t => t.Authorization).WithMany().HasForeignKey(t => t.AuthorizationId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<OAuthScope>(scope =>
        {
            scope.ToTable("Scopes");
            scope.HasKey(s => s.Id);
            scope.Property(s => s.Id).HasMaxLength(64);
            scope.Property(s => s.Name).HasMaxLength(200).IsRequired();
            scope.HasIndex(s => s.Name).IsUnique();
            scope.Property(s => s.DisplayName).HasMaxLength(200);
            scope.Property(s => s.Description).HasMaxLength(1000);
            scope.Property(s => s.Claims).IsRequired().HasDefaultValue("[]");
            scope.Property(s => s.ConcurrencyToken).HasMaxLength(64).IsConcurrencyToken();
        });

        builder.Entity<RevokedAccessToken>(revoked =>
        {
            revoked.ToTable("RevokedAccessTokens");
            revoked.HasKey(r => r.Jti);
            revoked.Property(r => r.Jti).HasMaxLength(100);
            revoked.HasIndex(r => r.ExpirationDate);
        });

        builder.Entity<DataProtectionKey>(key =>
        {
            key.ToTable("DataProtectionKeys");
            key.HasKey(k => k.Id);
            key.Property(k => k.FriendlyName).HasMaxLength(256);
            key.Property(k => k.Xml).IsRequired();
        });

        builder.Entity<UserSession>(session =>
        {
            session.ToTable("Sessions");
            session.HasKey(s => s.Id);
            session.Property(s => s.Id).HasMaxLength(64);
            session.Property(s => s.Sid).HasMaxLength(64).IsRequired();
            session.Property(s => s.Subject).HasMaxLength(450).IsRequired();
            session.Property(s => s.UserAgent).HasMaxLength(512);
            session.Property(s => s.IpAddress).HasMaxLength(64);
            session.HasIndex(s => s.Subject);
            // Ending a session by its sid (logout, "Devices and apps") finds the row through this index.
            session.HasIndex(s => s.Sid);
            // Pruning finds ended sessions through this index.
            session.HasIndex(s => s.ExpirationDate);
        });

        builder.Entity<AuditEntry>(entry =>
        {
            entry.ToTable("AuditEntries");
            entry.HasKey(e => e.Id);
            entry.Property(e => e.Id).HasMaxLength(64);
            entry.Property(e => e.ActorId).HasMaxLength(450).IsRequired();
            entry.Property(e => e.ActorName).HasMaxLength(256);
            entry.Property(e => e.Action).HasMaxLength(100).IsRequired();
            entry.Property(e => e.Target).HasMaxLength(300).IsRequired();
            // The log is read newest first, and per client or scope.
            entry.HasIndex(e => e.Timestamp);
            entry.HasIndex(e => e.Target);
            // The general audit log (AuditLog migration): the defaults mark the rows written before as admin changes.
            entry.Property(e => e.Kind).HasMaxLength(50).IsRequired().HasDefaultValue(AuditKinds.Admin);
            entry.Property(e => e.Outcome).HasMaxLength(20).IsRequired().HasDefaultValue(AuditOutcomes.Success);
            entry.Property(e => e.IpAddress).HasMaxLength(64);
            entry.Property(e => e.ClientId).HasMaxLength(100);
            // The admin API filters by kind, actor and client, newest first.
            entry.HasIndex(e => new { e.Kind, e.Timestamp });
            entry.HasIndex(e => new { e.ActorId, e.Timestamp });
            entry.HasIndex(e => new { e.ClientId, e.Timestamp });
        });

        builder.Entity<InitialAccessToken>(token =>
        {
            token.ToTable("InitialAccessTokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.Id).HasMaxLength(64);
            token.Property(t => t.ReferenceId).HasMaxLength(100).IsRequired();
            token.HasIndex(t => t.ReferenceId).IsUnique();
            token.Property(t => t.Description).HasMaxLength(200);
            token.Property(t => t.CreatedBy).HasMaxLength(450).IsRequired();
            token.HasIndex(t => t.ExpirationDate);
        });

        builder.Entity<PushedAuthorizationRequest>(request =>
        {
            request.ToTable("PushedAuthorizationRequests");
            request.HasKey(r => r.Id);
            request.Property(r => r.Id).HasMaxLength(64);
            request.Property(r => r.ReferenceId).HasMaxLength(100).IsRequired();
            request.HasIndex(r => r.ReferenceId).IsUnique();
            request.Property(r => r.ClientId).HasMaxLength(100).IsRequired();
            request.Property(r => r.Parameters).IsRequired();
            request.Property(r => r.BindingHash).HasMaxLength(100);
            request.HasIndex(r => r.ExpirationDate);
        });

        builder.Entity<UsedClientAssertion>(assertion =>
        {
            assertion.ToTable("UsedClientAssertions");
            assertion.HasKey(a => a.Id);
            assertion.Property(a => a.Id).HasMaxLength(100);
            assertion.Property(a => a.ClientId).HasMaxLength(100).IsRequired();
            assertion.HasIndex(a => a.ExpirationDate);
        });

        builder.Entity<DPoPProofJti>(proof =>
        {
            proof.ToTable("DPoPProofJtis");
            proof.HasKey(p => p.Id);
            proof.Property(p => p.Id).HasMaxLength(64);
            // Pruning finds the proofs past their window through this index.
            proof.HasIndex(p => p.ExpirationDate);
        });

        // RFC 8628 device authorizations (DeviceCodes migration).
        builder.Entity<DeviceCode>(device =>
        {
            device.ToTable("DeviceCodes");
            device.HasKey(d => d.Id);
            device.Property(d => d.Id).HasMaxLength(64);
            device.Property(d => d.ApplicationId).HasMaxLength(64).IsRequired();
            device.Property(d => d.DeviceCodeHash).HasMaxLength(100).IsRequired();
            device.Property(d => d.UserCodeHash).HasMaxLength(100).IsRequired();
            device.Property(d => d.Status).HasMaxLength(20).IsRequired();
            device.Property(d => d.Subject).HasMaxLength(450);
            device.Property(d => d.ConcurrencyToken).HasMaxLength(64).IsConcurrencyToken();
            device.HasIndex(d => d.DeviceCodeHash).IsUnique();
            device.HasIndex(d => d.UserCodeHash).IsUnique();
            device.HasIndex(d => d.ApplicationId);
            // Pruning walks expired rows through this index.
            device.HasIndex(d => d.ExpirationDate);
            device.HasOne(d => d.Application).WithMany().HasForeignKey(d => d.ApplicationId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

/// <summary>
/// EF caches one model per context type, but Identity's model depends on the schema version the application's
/// IdentityOptions name (3: the passkey table). A context built without the application's services (tests, tools) gets
/// version 1, so the version is part of the cache key: such a context never leaves its smaller model to the server's
/// contexts in the same process. The key: the context type, design time, and the Identity schema version in force.
/// </summary>
internal sealed class IdentitySchemaModelCacheKey : Microsoft.EntityFrameworkCore.Infrastructure.IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime)
    {
        var services = Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<Microsoft.EntityFrameworkCore.Infrastructure.IDbContextOptions>(context)
            .FindExtension<Microsoft.EntityFrameworkCore.Infrastructure.CoreOptionsExtension>()?.ApplicationServiceProvider;
        var version = (services?.GetService(typeof(Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Identity.IdentityOptions>))
            as Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Identity.IdentityOptions>)?.Value.Stores.SchemaVersion;
        return (context.GetType(), designTime, version);
    }
}
