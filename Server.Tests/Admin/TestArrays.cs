namespace IdentityServer.Tests.Admin;

/// <summary>String arrays for request bodies and expectations, without a constant array at every call (CA1861).</summary>
internal static class TestArrays
{
    public static string[] Strings(params string[] values) => values;
}
