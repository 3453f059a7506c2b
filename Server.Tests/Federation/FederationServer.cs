using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Federation;

/// <summary>The in-process server with all four providers configured against one shared <see cref="ProviderStandIn"/>.</summary>
public sealed class FederationServer : ServerFactory
{
    public ProviderStandIn StandIn { get; } = ProviderStandIn.Start();

    protected override IDictionary<string, string?> Settings => StandIn.ServerSettings();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            StandIn.Dispose();
        }
    }
}

/// <summary>One federation host for all federation test classes (they run one after another, sharing its clock).</summary>
[CollectionDefinition(Name)]
public sealed class FederationHost : ICollectionFixture<FederationServer>
{
    public const string Name = "Federation";
}
