using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Clients;

/// <summary>
/// Client secrets are made by the server with 256 bits of entropy and stored as SHA-256 only. With that much entropy a
/// slow hash adds nothing (there is no dictionary to try), so verification stays cheap on the token endpoint.
/// </summary>
public static class ClientSecrets
{
    /// <summary>The default of Admin:SecretRotationGracePeriod: how long a replaced secret keeps working.</summary>
    public static readonly TimeSpan DefaultRotationGracePeriod = TimeSpan.FromDays(1);

    public static string Generate() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Constant-time comparison of the presented secret's hash with the stored one.</summary>
    public static bool Matches(string presented, string? storedHash)
    {
        if (string.IsNullOrEmpty(storedHash))
        {
            return false;
        }

        Span<byte> presentedHash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedHash);
        byte[] stored;
        try
        {
            stored = Base64UrlEncoder.DecodeBytes(storedHash);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(presentedHash, stored);
    }

    public static bool Verify(ClientDescriptor client, string presented, DateTime now) =>
        Matches(presented, client.SecretHash)
        || (client.PreviousSecretExpiresAt > now && Matches(presented, client.PreviousSecretHash));
}
