using System.Globalization;
using System.Runtime.CompilerServices;

namespace GraphNet.Tests;

/// <summary>
/// Runs the test assembly under the culture that GRAPHNET_TEST_CULTURE names. CI runs the whole suite under
/// de-DE and tr-TR besides the invariant culture: a comma as the decimal separator and Turkish casing
/// ("i".ToUpper() is "İ") break code that formats, parses or compares text in the current culture, as the
/// compiler's constant keys once did. Those runs repeat the fuzz graphs less (one batch in ten): every test runs.
/// </summary>
public static class TestCulture
{
    public static string? Name => Environment.GetEnvironmentVariable("GRAPHNET_TEST_CULTURE") is { Length: > 0 } n ? n : null;

    /// <summary>How many of <paramref name="batches"/> repeated batches a test runs in this run.</summary>
    public static int Batches(int batches) => Name is null ? batches : 1;

#pragma warning disable CA2255 // a test assembly's own set-up, before xunit starts its threads
    [ModuleInitializer]
    internal static void Apply()
    {
        if (Name is not { } name) return;
        var culture = CultureInfo.GetCultureInfo(name);
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = culture;
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture;
    }
#pragma warning restore CA2255
}
