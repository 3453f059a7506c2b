using IdentityServer.Hosting;
using IdentityServer.Hosting.Cli;
using IdentityServer.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IdentityServer.Tests.Jobs;

/// <summary>The Pruning section: defaults, the checks that stop startup naming the setting, and the switch for the schedule.</summary>
public sealed class PruningSettingsTests
{
    [Theory]
    [InlineData("Retention", "00:09:59", "Pruning:Retention")]
    [InlineData("Retention", "-1.00:00:00", "Pruning:Retention")]
    [InlineData("Interval", "00:00:00", "Pruning:Interval")]
    [InlineData("BatchSize", "0", "Pruning:BatchSize")]
    [InlineData("BatchSize", "100001", "Pruning:BatchSize")]
    public void A_bad_value_stops_startup_naming_the_setting(string key, string value, string setting)
    {
        var builder = Builder(("Pruning:" + key, value));

        var error = Assert.Throws<StartupConfigurationException>(() => builder.AddPruning());

        Assert.Equal(setting, error.Setting);
        Assert.StartsWith($"Configuration error in '{setting}': ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_hourly_runs_of_1000_row_batches_keeping_14_days_and_the_minimum_retention_is_accepted()
    {
        var defaults = Builder().AddPruning().Services.BuildServiceProvider().GetRequiredService<PruningOptions>();
        Assert.True(defaults.Enabled);
        Assert.Equal(TimeSpan.FromHours(1), defaults.Interval);
        Assert.Equal(TimeSpan.FromDays(14), defaults.Retention);
        Assert.Equal(1000, defaults.BatchSize);

        var shortest = Builder(("Pruning:Retention", "00:10:00")).AddPruning().Services.BuildServiceProvider().GetRequiredService<PruningOptions>();
        Assert.Equal(TimeSpan.FromMinutes(10), shortest.Retention);
    }

    [Fact]
    public void Disabled_means_no_schedule_but_the_prune_command_still_has_its_service()
    {
        var enabled = Builder().AddPruning().Services;
        var disabled = Builder(("Pruning:Enabled", "false")).AddPruning().Services;

        Assert.Contains(enabled, d => d.ServiceType == typeof(IHostedService));
        Assert.DoesNotContain(disabled, d => d.ServiceType == typeof(IHostedService));
        Assert.Contains(disabled, d => d.ServiceType == typeof(PruneService));
        Assert.Contains(disabled, d => d.ServiceType == typeof(ICommand) && d.ImplementationType == typeof(PruneCommand));
    }

    [Fact]
    public void The_first_run_comes_1_to_10_minutes_after_start()
    {
        var delays = Enumerable.Range(0, 2000).Select(_ => PruningRegistration.FirstRunDelay()).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10)));
        Assert.True(delays.Distinct().Count() > 100, "the first run is not spread out");
    }

    private static WebApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        return builder;
    }
}
