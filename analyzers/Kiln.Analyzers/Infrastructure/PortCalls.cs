using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Reads the port number (and protocol) out of <c>Port.Tcp(n)</c>, <c>Port.Udp(n)</c>, <c>new Port(n, …)</c> and <c>HealthCheck.Http(n)</c>.</summary>
internal static class PortCalls
{
    /// <summary>The members where a port can be declared: a factory by name, a creation (<c>new(80)</c> need not name Port), or a <c>with { Number = … }</c>.</summary>
    public static SyntaxFilter Filter => new("Tcp", "Udp", "Http", "Number", "Port") { ObjectCreations = true };

    /// <summary>Runs <paramref name="action"/> on each port declaration with a constant number in a spec, with the number and its operation.</summary>
    public static void RegisterPortAction(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<SpecOperationContext, int, IOperation> action) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            Filter,
            operationContext =>
            {
                // A `with` is read as a whole: its operand's port may be replaced.
                if (!operationContext.Operation.IsWithOperand()
                    && TryGetPort(operationContext.Operation, types, out var number, out _, out var numberOperation))
                {
                    action(operationContext, number, numberOperation);
                }
            },
            OperationKind.Invocation,
            OperationKind.ObjectCreation,
            OperationKind.With);

    /// <summary>The constant number of a port declaration, and its protocol (<c>tcp</c>/<c>udp</c>, null for a health check).</summary>
    public static bool TryGetPort(IOperation operation, SpecTypes types, out int number, out string? protocol, out IOperation numberOperation)
    {
        number = 0;
        protocol = null;
        numberOperation = operation;
        IOperation? argument;
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "Tcp" or "Udp" } factory when SpecTypes.Is(factory.TargetMethod.ContainingType, types.Port):
                argument = factory.Arguments.Argument("number");
                protocol = factory.TargetMethod.Name == "Tcp" ? "tcp" : "udp";
                break;
            case IObjectCreationOperation creation when SpecTypes.Is(creation.Type, types.Port):
                argument = creation.Arguments.Argument("Number");
                var protocolArgument = creation.Arguments.Argument("Protocol");
                if (protocolArgument is null)
                {
                    protocol = "tcp";
                }
                else if (protocolArgument.ConstantValue is { HasValue: true, Value: int value })
                {
                    protocol = value == 0 ? "tcp" : "udp";
                }
                else
                {
                    return false;
                }

                break;
            case IInvocationOperation { TargetMethod.Name: "Http" } http when SpecTypes.Is(http.TargetMethod.ContainingType, types.HealthCheck):
                argument = http.Arguments.Argument("port");
                break;
            case IWithOperation with when SpecTypes.Is(with.Type, types.Port):
                return TryGetWith(with, "Number", types, out number, out protocol, out numberOperation);
            case IWithOperation { Type.Name: "HttpHealthCheck" } with when SpecTypes.Is(with.Type?.BaseType, types.HealthCheck):
                return TryGetWith(with, "Port", types, out number, out protocol, out numberOperation);
            default:
                return false;
        }

        if (argument is not null && argument.TryGetInt(out number))
        {
            numberOperation = argument;
            return true;
        }

        return false;
    }

    /// <summary>A port replaced (or kept) by <c>port with { Number = … }</c>; the protocol too, when it is replaced by a constant.</summary>
    private static bool TryGetWith(IWithOperation with, string numberMember, SpecTypes types, out int number, out string? protocol, out IOperation numberOperation)
    {
        var known = TryGetPort(with.Operand.WalkDownConversion(), types, out number, out protocol, out numberOperation);
        if (with.Initializer.InitializedMember(numberMember) is { } newNumber)
        {
            numberOperation = newNumber;
            known = newNumber.TryGetInt(out number);
        }

        if (with.Initializer.InitializedMember("Protocol") is { } newProtocol)
        {
            protocol = newProtocol.ConstantValue is { HasValue: true, Value: int value } ? (value == 0 ? "tcp" : "udp") : null;
        }

        return known;
    }
}
