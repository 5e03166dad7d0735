namespace Kiln.Tests.Shared;

/// <summary>Paths of the repository the tests run from (found by its Tooling.sln above the test assembly).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tooling.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Tooling.sln not found above " + AppContext.BaseDirectory);
    }
}
