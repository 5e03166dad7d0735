using Kiln.Engine.Evaluation;
using Kiln.Spec;

namespace Kiln.Engine.Tests.Planning;

/// <summary>Resolved servers built directly, as evaluation would produce them, for the planner's tests.</summary>
internal static class PlanningFixtures
{
    /// <summary>A scratch-based server with only <paramref name="layers"/> and an entrypoint; every other setting empty.</summary>
    public static ResolvedServer Server(string name, params Layer[] layers) => new()
    {
        SpecType = "Acme.Specs." + name,
        Name = name,
        Version = "1.0.0",
        Base = BaseImage.Scratch,
        Layers = [.. layers],
        Account = Account.Default,
        WorkingDirectory = "/",
        Entrypoint = new Entrypoint("/app/api"),
        Arguments = [],
        Environment = [],
        Ports = [],
        Limits = Limits.None,
        Labels = [],
        Volumes = [],
        Secrets = [],
    };
}
