using IdentityServer.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// Usage: bench-setup USERNAME PASSWORD
// Creates (or finds) a local account in the database the server uses, configured by the same environment variables
// as the server (Database__Provider, Database__ConnectionString, Database__DataDirectory). The server has already
// migrated the database. Prints the user's id, which is the subject of its tokens.
if (args.Length != 2)
{
    await Console.Error.WriteLineAsync("usage: bench-setup USERNAME PASSWORD");
    return 2;
}

var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
var services = new ServiceCollection();
services.AddLogging();
services.AddIdentityDatabase(configuration);
services.AddIdentityCore<ApplicationUser>().AddEntityFrameworkStores<IdentityDbContext>();

await using var provider = services.BuildServiceProvider();
await using var scope = provider.CreateAsyncScope();
var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
var user = await users.FindByNameAsync(args[0]);
if (user is null)
{
    user = new ApplicationUser
    {
        UserName = args[0],
        Email = args[0] + "@bench.invalid",
        EmailConfirmed = true,
        Name = "Bench User",
        UpdatedAt = DateTime.UtcNow,
    };
    var result = await users.CreateAsync(user, args[1]);
    if (!result.Succeeded)
    {
        await Console.Error.WriteLineAsync("cannot create the bench user: " + string.Join("; ", result.Errors.Select(e => e.Description)));
        return 1;
    }
}

Console.WriteLine(user.Id);
return 0;
