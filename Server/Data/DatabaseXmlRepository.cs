using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityServer.Data;

/// <summary>
/// Keeps the Data Protection key ring in the database (the EF Core Data Protection package is not available here), so
/// every instance decrypts every other instance's cookies and antiforgery tokens, and restarts keep sessions valid.
/// A key unknown to an instance makes the key ring reload, so a key made elsewhere is picked up on first sight.
/// </summary>
public sealed class DatabaseXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        // A read, retried on a dropped connection. StoreElement is not: an insert retried after a lost acknowledgement
        // would store the same key twice.
        var stored = IdempotentRetry.Run(db, () => db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToList());
        return stored.Select(xml => XElement.Parse(xml)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}

public static class DataProtectionSetup
{
    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services)
    {
        // One application name for every instance, whatever its content root, so they share one key ring.
        services.AddDataProtection().SetApplicationName("IdentityServer");
        services.AddSingleton<DatabaseXmlRepository>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider =>
            new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository = provider.GetRequiredService<DatabaseXmlRepository>()));
        return services;
    }

    /// <summary>
    /// The framework reads the key ring at start, from a hosted service that every AddDataProtection (authentication,
    /// antiforgery, Identity ...) registers again, so this runs after all of them. Our key ring lives in the database,
    /// which may still be migrating then (Database:StartInBackground): it is read on first use instead, by the first
    /// request that protects or reads a cookie, which the start gate holds until the database is ready.
    /// </summary>
    public static IServiceCollection ReadKeyRingOnFirstUse(this IServiceCollection services)
    {
        var warmUps = services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList();
        foreach (var warmUp in warmUps)
        {
            services.Remove(warmUp);
        }

        return services;
    }
}
