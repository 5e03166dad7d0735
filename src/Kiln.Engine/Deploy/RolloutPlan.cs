using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Diff;
using Kiln.Engine.Manifests;

namespace Kiln.Engine.Deploy;

/// <summary>The inputs of <c>kiln plan</c>: two release.json files, the one running now and the one to roll out.</summary>
public sealed record PlanRequest(string OldRelease, string NewRelease);

/// <summary>One component in a plan.</summary>
/// <param name="Order">1-based rollout position; components that do not change keep a position too, so the order reads as the deployment declares it.</param>
/// <param name="Deployment">The deployment the component belongs to (empty when the new release declares none).</param>
/// <param name="Server">The server's name.</param>
/// <param name="Action"><c>roll</c> (new digest), <c>add</c>, <c>remove</c> or <c>keep</c> (same digest).</param>
/// <param name="FromReference">name:version running now.</param>
/// <param name="FromDigest">Its image digest.</param>
/// <param name="ToReference">name:version to roll to.</param>
/// <param name="ToDigest">Its image digest.</param>
/// <param name="Changes">What changed inside the image, from <c>kiln diff</c>: settings, packages and files.</param>
public sealed record PlannedComponent(
    int Order,
    string Deployment,
    string Server,
    string Action,
    string? FromReference,
    string? FromDigest,
    string? ToReference,
    string? ToDigest,
    ImmutableArray<string> Changes);

/// <summary>What rolling from one release to another replaces, in which order.</summary>
public sealed record RolloutPlanResult(ImmutableArray<PlannedComponent> Components)
{
    /// <summary>The components whose instances are replaced (rolled, added or removed).</summary>
    public IEnumerable<PlannedComponent> Changing => Components.Where(c => c.Action != "keep");
}

/// <summary>
/// Compares two release.json files. A component rolls when its image digest differs; the order is the new release's
/// deployments' component order (what the DeploymentSpec declares), and what changed in each comes from the same
/// manifest comparison <c>kiln diff</c> makes.
/// </summary>
internal static class RolloutPlan
{
    public static RolloutPlanResult Plan(PlanRequest request)
    {
        var before = Read(request.OldRelease);
        var after = Read(request.NewRelease);
        var diff = KilnEngine.Diff(new DiffRequest(request.OldRelease, request.NewRelease));

        // Rollout order: each deployment's components as declared; images no deployment names follow, by name.
        var ordered = new List<(string Deployment, string Name)>();
        foreach (var (deployment, _, components) in after.Deployments.Concat(before.Deployments.Where(d => after.Deployments.All(a => a.Name != d.Name))))
        {
            foreach (var reference in components)
            {
                var name = reference[..reference.LastIndexOf(':')];
                if (!ordered.Any(o => o.Deployment == deployment && o.Name == name))
                {
                    ordered.Add((deployment, name));
                }
            }
        }

        foreach (var name in after.Images.Select(i => i.Name).Union(before.Images.Select(i => i.Name)).Order(StringComparer.Ordinal))
        {
            if (!ordered.Any(o => o.Name == name))
            {
                ordered.Add(("", name));
            }
        }

        var planned = ImmutableArray.CreateBuilder<PlannedComponent>();
        foreach (var (deployment, name) in ordered)
        {
            var from = before.Images.FirstOrDefault(i => i.Name == name);
            var to = after.Images.FirstOrDefault(i => i.Name == name);
            var action = (from, to) switch
            {
                (null, _) => "add",
                (_, null) => "remove",
                _ when from.Digest == to.Digest => "keep",
                _ => "roll",
            };
            planned.Add(new PlannedComponent(planned.Count + 1, deployment, name, action, from?.Reference, from?.Digest.ToString(), to?.Reference, to?.Digest.ToString(), action == "roll" ? Changes(name, diff) : []));
        }

        return new RolloutPlanResult(planned.ToImmutable());
    }

    private static ImmutableArray<string> Changes(string server, DiffResult diff) =>
    [
        .. diff.Settings.Where(s => s.Server == server).Select(s => $"setting {s.Setting}: {s.Before ?? "-"} → {s.After ?? "-"}"),
        .. diff.Packages.Where(p => p.Server == server).Select(p => $"package {p.Package} {p.Change}: {p.Before ?? "-"} → {p.After ?? "-"}"),
        .. diff.Files.Where(f => f.Server == server).Select(f => $"file {f.Path} {f.Change}{(f.What.IsDefaultOrEmpty ? "" : $" ({string.Join(", ", f.What)})")}"),
    ];

    private static ReleaseDocument Read(string path)
    {
        try
        {
            return ReleaseDocument.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.ReleaseUnreadable, $"The release file '{path}' cannot be read: {e.Message}");
        }
    }
}
