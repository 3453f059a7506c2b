using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Protocol.DPoP;

/// <summary>
/// The public key in a DPoP proof's jwk header (RFC 9449 §4.2): an RSA or EC public JWK (RFC 7517, RFC 7518 §6), never a
/// private or symmetric one, fit for the proof's alg. Verifies the proof's signature and gives its RFC 7638 thumbprint.
/// </summary>
public sealed class DPoPKey : IDisposable
{
    /// <summary>Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).</summary>
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private readonly AsymmetricAlgorithm _key;

    private DPoPKey(AsymmetricAlgorithm key, string thumbprint)
    {
        _key = key;
        Thumbprint = thumbprint;
    }

    /// <summary>base64url(SHA-256) of the key's required members in lexicographic order, no whitespace (RFC 7638 §3).</summary>
    public string Thumbprint { get; }

    /// <summary>The key in <paramref name="jwk"/> for <paramref name="algorithm"/>, or null with the reason.</summary>
    public static DPoPKey? Read(JsonElement jwk, string algorithm, out string? problem)
    {
        problem = null;
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            problem = "The jwk header must be a JSON Web Key object.";
            return null;
        }

        // §4.3 check 7: the header must not carry a private key.
        if (PrivateMembers.Any(member => jwk.TryGetProperty(member, out _)))
        {
            problem = "The jwk header must hold a public key only.";
            return null;
        }

        try
        {
            return Member(jwk, "kty") switch
            {
                "EC" when algorithm.StartsWith("ES", StringComparison.Ordinal) => ReadEc(jwk, algorithm, out problem),
                "RSA" when algorithm.StartsWith("RS", StringComparison.Ordinal) || algorithm.StartsWith("PS", StringComparison.Ordinal) => ReadRsa(jwk, out problem),
                _ => Fail("The jwk's kty does not fit the alg (EC for ES*, RSA for RS* and PS*).", out problem),
            };
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            problem = "The jwk is not a valid public key.";
            return null;
        }
    }

    /// <summary>Whether <paramref name="signature"/> is <paramref name="algorithm"/>'s signature of <paramref name="signingInput"/> with this key (RFC 7518 §3).</summary>
    public bool Verifies(string algorithm, byte[] signingInput, byte[] signature)
    {
        var hash = algorithm[2..] switch
        {
            "256" => HashAlgorithmName.SHA256,
            "384" => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };
        return _key switch
        {
            // JWS ECDSA signatures are R || S of fixed length (RFC 7518 §3.4), .NET's default format.
            ECDsa ec => ec.VerifyData(signingInput, signature, hash),
            RSA rsa => rsa.VerifyData(signingInput, signature, hash, algorithm[0] == 'P' ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
            _ => false,
        };
    }

    public void Dispose() => _key.Dispose();

    private static DPoPKey? ReadEc(JsonElement jwk, string algorithm, out string? problem)
    {
        // RFC 7518 §3.4: each ES algorithm has its curve.
        var (crv, curve, size) = algorithm switch
        {
            "ES256" => ("P-256", ECCurve.NamedCurves.nistP256, 32),
            "ES384" => ("P-384", ECCurve.NamedCurves.nistP384, 48),
            _ => ("P-521", ECCurve.NamedCurves.nistP521, 66),
        };
        var x = Member(jwk, "x");
        var y = Member(jwk, "y");
        if (Member(jwk, "crv") != crv || x is null || y is null)
        {
            return Fail($"{algorithm} needs an EC key on {crv} with x and y.", out problem);
        }

        var (xBytes, yBytes) = (Base64UrlEncoder.DecodeBytes(x), Base64UrlEncoder.DecodeBytes(y));
        if (xBytes.Length != size || yBytes.Length != size)
        {
            return Fail("The EC key's coordinates have the wrong length.", out problem);
        }

        // ImportParameters checks that the point is on the curve.
        var key = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = xBytes, Y = yBytes } });
        problem = null;
        return new DPoPKey(key, ComputeThumbprint(json =>
        {
            json.WriteString("crv", crv);
            json.WriteString("kty", "EC");
            json.WriteString("x", x);
            json.WriteString("y", y);
        }));
    }

    private static DPoPKey? ReadRsa(JsonElement jwk, out string? problem)
    {
        var n = Member(jwk, "n");
        var e = Member(jwk, "e");
        if (n is null || e is null)
        {
            return Fail("An RSA key needs n and e.", out problem);
        }

        var modulus = Base64UrlEncoder.DecodeBytes(n);
        var exponent = Base64UrlEncoder.DecodeBytes(e);
        // RFC 7518 §3.3: 2048 bits or larger. A leading zero octet would make the same key another thumbprint (RFC 7638 §3.3).
        if (modulus.Length < 256 || modulus[0] == 0 || exponent.Length == 0 || exponent[0] == 0 || modulus.Length > 1024)
        {
            return Fail("The RSA key must be at least 2048 bits, its n and e without leading zero octets.", out problem);
        }

        var key = RSA.Create(new RSAParameters { Modulus = modulus, Exponent = exponent });
        problem = null;
        return new DPoPKey(key, ComputeThumbprint(json =>
        {
            json.WriteString("e", e);
            json.WriteString("kty", "RSA");
            json.WriteString("n", n);
        }));
    }

    private static string ComputeThumbprint(Action<Utf8JsonWriter> members)
    {
        // The members are base64url text and fixed names: nothing the writer would escape.
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }

        return Base64UrlEncoder.Encode(SHA256.HashData(buffer.ToArray()));
    }

    /// <summary>A string member that is base64url or a plain name; anything else is treated as missing.</summary>
    private static string? Member(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= 2048 } text
            && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? text : null;

    private static DPoPKey? Fail(string reason, out string? problem)
    {
        problem = reason;
        return null;
    }

}
