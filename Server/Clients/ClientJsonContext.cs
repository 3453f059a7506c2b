using System.Text.Json.Serialization;

namespace IdentityServer.Clients;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(ClientSettings))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
