using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Evaluation;

/// <summary>What evaluation is doing at this moment: which spec, and which of its members runs.</summary>
/// <param name="SpecType">The spec's full type name, or empty while the assembly is being loaded.</param>
/// <param name="Activity">What runs, for a message ("reading Layers", "running its constructor").</param>
/// <param name="Location">The member's source location, when known.</param>
internal sealed record EvaluationStep(string SpecType, string Activity, SourceLocation? Location);

/// <summary>
/// Written by the evaluating thread before every call into spec code and read by the thread that enforces the timeout,
/// so that a spec that never returns is reported by the member it is stuck in.
/// </summary>
internal sealed class EvaluationProgress
{
    private EvaluationStep _current = new("", "loading the spec assembly", null);

    public EvaluationStep Current => Volatile.Read(ref _current);

    public void Enter(string specType, string activity, SourceLocation? location) => Volatile.Write(ref _current, new EvaluationStep(specType, activity, location));
}
