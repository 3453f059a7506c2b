using IdentityServer.Clients;

namespace IdentityServer.Protocol.Grants;

/// <summary>
/// One grant type of the token endpoint. The shared front has already read the form and authenticated the client, and
/// the endpoint has checked that the client is permitted this grant; a grant checks its own parameters, calls the token
/// lifecycle, and writes the response. A new grant is one class and one <see cref="TokenGrantRegistry.AddTokenGrant{TGrant}"/> line.
/// </summary>
public interface ITokenGrant
{
    /// <summary>The grant_type value this grant answers.</summary>
    static abstract string GrantType { get; }

    Task<IResult> HandleAsync(ClientDescriptor client, OAuthParameters parameters, CancellationToken cancellationToken);
}

/// <summary>The name of one registered grant; the registry gathers them.</summary>
public sealed record RegisteredGrantType(string Name);

/// <summary>
/// The token endpoint's grants, keyed by grant_type: the endpoint resolves a grant from it, discovery publishes its
/// names as grant_types_supported, and the client rules accept only those names (<see cref="IGrantTypeCatalog"/>).
/// </summary>
public sealed class TokenGrantRegistry(IEnumerable<RegisteredGrantType> registered) : IGrantTypeCatalog
{
    private readonly HashSet<string> _names = registered.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);

    public IReadOnlyList<string> GrantTypes { get; } = [.. registered.Select(r => r.Name).Distinct(StringComparer.Ordinal)];

    /// <summary>The grant answering <paramref name="grantType"/>, or null for a grant type this server does not serve.</summary>
    public ITokenGrant? Find(IServiceProvider services, string grantType) =>
        _names.Contains(grantType) ? (ITokenGrant)services.GetRequiredKeyedService(typeof(ITokenGrant), grantType) : null;

    /// <summary>Registers a grant (scoped, like the database context it works with) under its grant_type.</summary>
    public static void AddTokenGrant<TGrant>(IServiceCollection services)
        where TGrant : class, ITokenGrant
    {
        services.AddKeyedScoped(typeof(ITokenGrant), TGrant.GrantType, typeof(TGrant));
        services.AddSingleton(new RegisteredGrantType(TGrant.GrantType));
    }
}
