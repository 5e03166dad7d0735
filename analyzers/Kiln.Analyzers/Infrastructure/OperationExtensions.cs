using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Reading compile-time values out of operations: constants, arguments, collection elements.</summary>
internal static class OperationExtensions
{
    public static IOperation WalkDownConversion(this IOperation operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    public static bool TryGetString(this IOperation? operation, out string value)
    {
        if (operation is { ConstantValue: { HasValue: true, Value: string s } })
        {
            value = s;
            return true;
        }

        value = string.Empty;
        return false;
    }

    public static bool TryGetInt(this IOperation? operation, out int value)
    {
        if (operation is { ConstantValue: { HasValue: true, Value: int i } })
        {
            value = i;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>The value passed for <paramref name="parameterName"/>, or null when the default applies.</summary>
    public static IOperation? Argument(this ImmutableArray<IArgumentOperation> arguments, string parameterName)
    {
        foreach (var argument in arguments)
        {
            if (argument.Parameter?.Name == parameterName && argument.ArgumentKind != ArgumentKind.DefaultValue)
            {
                return argument.Value.WalkDownConversion();
            }
        }

        return null;
    }

    /// <summary>Every value passed, with a params array flattened into its elements.</summary>
    public static IEnumerable<IOperation> FlattenedValues(this ImmutableArray<IArgumentOperation> arguments)
    {
        foreach (var argument in arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.DefaultValue)
            {
                continue;
            }

            if (argument.ArgumentKind == ArgumentKind.ParamArray)
            {
                foreach (var element in argument.Value.CollectionElements())
                {
                    yield return element;
                }
            }
            else
            {
                yield return argument.Value.WalkDownConversion();
            }
        }
    }

    /// <summary>
    /// The elements of a collection visible in source: a collection expression, an array or a collection
    /// initializer, or <c>ImmutableArray.Create(...)</c>. Spreads and anything computed are left out.
    /// </summary>
    public static IEnumerable<IOperation> CollectionElements(this IOperation? operation)
    {
        switch (operation?.WalkDownConversion())
        {
            case ICollectionExpressionOperation collection:
                foreach (var element in collection.Elements)
                {
                    if (element is not ISpreadOperation)
                    {
                        yield return element.WalkDownConversion();
                    }
                }

                break;
            case IArrayCreationOperation { Initializer: { } initializer }:
                foreach (var element in initializer.ElementValues)
                {
                    yield return element.WalkDownConversion();
                }

                break;
            case IObjectCreationOperation { Initializer: { } initializer }:
                foreach (var element in initializer.Initializers)
                {
                    if (element is IInvocationOperation { Arguments.Length: 1 } add)
                    {
                        yield return add.Arguments[0].Value.WalkDownConversion();
                    }
                }

                break;
            case IInvocationOperation { TargetMethod: { Name: "Create", ContainingType.Name: "ImmutableArray" } } create:
                foreach (var element in create.Arguments.FlattenedValues())
                {
                    yield return element;
                }

                break;
        }
    }

    /// <summary>Whether the operation sits in a lambda or local function rather than in the member itself.</summary>
    public static bool IsInsideFunction(this IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The method or constructor an invocation or creation calls, whichever it is.</summary>
    public static IMethodSymbol? TargetMethod(this IOperation operation) => operation switch
    {
        IInvocationOperation invocation => invocation.TargetMethod,
        IObjectCreationOperation creation => creation.Constructor,
        _ => null,
    };

    public static ImmutableArray<IArgumentOperation> ArgumentsOf(this IOperation operation) => operation switch
    {
        IInvocationOperation invocation => invocation.Arguments,
        IObjectCreationOperation creation => creation.Arguments,
        _ => ImmutableArray<IArgumentOperation>.Empty,
    };
}
