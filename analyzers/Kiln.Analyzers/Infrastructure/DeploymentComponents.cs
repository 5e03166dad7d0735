using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// Finds the servers a DeploymentSpec is made of without knowing the component API: any <c>typeof(S)</c> or type
/// argument <c>S</c> (of a method or of a created type) where S is a concrete ServerSpec type.
/// </summary>
internal static class DeploymentComponents
{
    public static void Register(
        CompilationStartAnalysisContext context,
        SpecTypes types,
        Action<SpecOperationContext, INamedTypeSymbol, SyntaxNode> onComponent) =>
        SpecActions.RegisterOperationAction(
            context,
            types,
            types.IsDeploymentSpec,
            SyntaxFilter.Everything,
            operationContext =>
            {
                switch (operationContext.Operation)
                {
                    case ITypeOfOperation { TypeOperand: INamedTypeSymbol server } typeOf when IsServer(server, types):
                        onComponent(operationContext, server, typeOf.Syntax);
                        break;
                    case IInvocationOperation invocation:
                        foreach (var argument in invocation.TargetMethod.TypeArguments)
                        {
                            if (argument is INamedTypeSymbol server && IsServer(server, types))
                            {
                                onComponent(operationContext, server, invocation.Syntax);
                            }
                        }

                        break;
                    case IObjectCreationOperation { Type: INamedTypeSymbol created } creation:
                        foreach (var argument in created.TypeArguments)
                        {
                            if (argument is INamedTypeSymbol server && IsServer(server, types))
                            {
                                onComponent(operationContext, server, creation.Syntax);
                            }
                        }

                        break;
                }
            },
            OperationKind.TypeOf,
            OperationKind.Invocation,
            OperationKind.ObjectCreation);

    private static bool IsServer(INamedTypeSymbol type, SpecTypes types) => !type.IsAbstract && types.IsServerSpec(type);
}
