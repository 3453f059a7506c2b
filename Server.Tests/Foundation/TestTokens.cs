using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Tests.Foundation;

/// <summary>Signs and validates JWTs with Microsoft.IdentityModel, the library resource servers use.</summary>
internal static class TestTokens
{
    public const string Audience = "https://api.test.example";

    public static string Sign(SigningCredentials credentials, string issuer) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = Audience,
        Subject = new ClaimsIdentity([new Claim("sub", "alice")]),
        IssuedAt = DateTime.UtcNow,
        NotBefore = DateTime.UtcNow,
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = credentials,
    });

    public static Task<TokenValidationResult> ValidateAsync(string token, string issuer, IEnumerable<SecurityKey> keys) =>
        new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = Audience,
            IssuerSigningKeys = keys,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            // Only the keys given here count: no fallback that tries keys without a matching kid.
            TryAllIssuerSigningKeys = false,
        });

    public static string KeyIdOf(string token) => new JsonWebToken(token).Kid;
}
