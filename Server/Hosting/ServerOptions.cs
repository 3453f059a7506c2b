namespace IdentityServer.Hosting;

/// <summary>
/// Server-wide settings (section <c>Server</c>) that every layer may read: the protocol endpoints, the token minting and
/// validation in Tokens, the back-channel logout tokens in Accounts. Kept here, below them all, so that none of those
/// layers has to import another for it.
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>The issuer identifier, used exactly as configured in tokens, discovery and the iss response parameter.</summary>
    public string Issuer { get; set; } = "";
}
