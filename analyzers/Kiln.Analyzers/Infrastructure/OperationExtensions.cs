using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
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

    /// <summary>The string <paramref name="operation"/> evaluates to, when it is known at compile time and the only one possible (see <see cref="ConstantValues"/>).</summary>
    public static bool TryGetString(this IOperation? operation, out string value) => TryGetString(operation, null, out value);

    /// <summary>The string an element of a collection evaluates to, reading a helper's parameters as its call's arguments.</summary>
    public static bool TryGetString(this CollectionElement element, out string value) => TryGetString(element.Value, element.Bindings, out value);

    private static bool TryGetString(IOperation? operation, Bindings? bindings, out string value)
    {
        if (ConstantValues.TryGetValue(operation, bindings, out var known) && known is string s)
        {
            value = s;
            return true;
        }

        value = string.Empty;
        return false;
    }

    /// <summary>The int <paramref name="operation"/> evaluates to, when it is known at compile time and the only one possible.</summary>
    public static bool TryGetInt(this IOperation? operation, out int value)
    {
        if (ConstantValues.TryGetValue(operation, null, out var known) && known is int i)
        {
            value = i;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>
    /// Every string <paramref name="operation"/> can evaluate to (both branches of a ternary…), each with the operation
    /// in the analysed code to report it at; empty when any possible value is unknown or not a string.
    /// </summary>
    public static List<KnownValue> PossibleStrings(this IOperation? operation) =>
        ConstantValues.TryGetValues(operation, out var values) && values.TrueForAll(v => v.Value is string) ? values : [];

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
                    yield return element.Value;
                }
            }
            else
            {
                yield return argument.Value.WalkDownConversion();
            }
        }
    }

    /// <summary>
    /// The elements of a collection whose elements can be read from source: a collection expression (spreads
    /// included), an array or a collection initializer, <c>ImmutableArray.Create(…)</c>, wrappers such as
    /// <c>.ToImmutableArray()</c> or <c>.Add(…)</c>, and the fields, properties, locals and helpers that hold one.
    /// Parts that cannot be read are left out; both branches of a ternary are included.
    /// </summary>
    public static List<CollectionElement> CollectionElements(this IOperation? operation) => CollectionElements(operation, out _);

    /// <param name="complete">Whether the list is exactly the collection: no part unread and no alternative branches.</param>
    public static List<CollectionElement> CollectionElements(this IOperation? operation, out bool complete)
    {
        var elements = new List<CollectionElement>();
        complete = operation is not null && Collect(operation, null, null, 0, elements);
        return elements;
    }

    private static readonly HashSet<string> ImmutableFactories = new(StringComparer.Ordinal) { "ImmutableArray", "ImmutableList", "ImmutableHashSet", "ImmutableSortedSet" };

    // Calls that return their receiver's elements unchanged (order aside), as another collection type.
    private static readonly HashSet<string> Wrappers = new(StringComparer.Ordinal)
    {
        "ToImmutableArray", "ToImmutableList", "ToImmutableHashSet", "ToImmutableSortedSet", "ToArray", "ToList", "ToHashSet", "AsEnumerable", "AsReadOnly", "AsSpan", "AsMemory", "ToBuilder", "ToImmutable", "MoveToImmutable", "DrainToImmutable",
    };

    private static bool Collect(IOperation operation, Bindings? bindings, IOperation? origin, int depth, List<CollectionElement> elements)
    {
        if (depth > 12 || elements.Count > 256)
        {
            return false;
        }

        operation = operation.WalkDownConversion();
        void Add(IOperation element) => elements.Add(new CollectionElement(element.WalkDownConversion(), origin ?? element.WalkDownConversion(), bindings));

        switch (operation)
        {
            case ICollectionExpressionOperation collection:
                var complete = true;
                foreach (var element in collection.Elements)
                {
                    if (element is ISpreadOperation spread)
                    {
                        complete &= Collect(spread.Operand, bindings, origin, depth + 1, elements);
                    }
                    else
                    {
                        Add(element);
                    }
                }

                return complete;
            case IArrayCreationOperation { Initializer: { } initializer }:
                foreach (var element in initializer.ElementValues)
                {
                    Add(element);
                }

                return true;
            case IObjectCreationOperation creation:
                var all = true;
                foreach (var argument in creation.Arguments)
                {
                    // new List<T>(source) copies a collection; an int (capacity) or a comparer adds nothing. A type of
                    // the user's own may do anything with its arguments: not read.
                    if (argument.Value.WalkDownConversion().Type is { SpecialType: not SpecialType.System_String } type && IsEnumerable(type))
                    {
                        all &= IsBclCollection(creation.Type) && Collect(argument.Value, bindings, origin, depth + 1, elements);
                    }
                }

                if (creation.Initializer is { } objectInitializer)
                {
                    foreach (var element in objectInitializer.Initializers)
                    {
                        if (element is IInvocationOperation { Arguments.Length: 1 } add)
                        {
                            Add(add.Arguments[0].Value);
                        }
                        else
                        {
                            all = false;
                        }
                    }
                }

                return all;
            case IInvocationOperation { TargetMethod: { Name: "Create" } create } invocation when ImmutableFactories.Contains(create.ContainingType.Name):
                foreach (var element in invocation.Arguments.FlattenedValues())
                {
                    Add(element);
                }

                return true;
            case IInvocationOperation { TargetMethod: { Name: "CreateRange" } createRange } invocation when ImmutableFactories.Contains(createRange.ContainingType.Name):
                return invocation.Arguments.Length == 1 && Collect(invocation.Arguments[0].Value, bindings, origin, depth + 1, elements);
            case IInvocationOperation invocation when Receiver(invocation) is { } receiver && Wrappers.Contains(invocation.TargetMethod.Name):
                return Collect(receiver, bindings, origin, depth + 1, elements);
            case IInvocationOperation { TargetMethod.Name: "Add" or "Append" } invocation
                when Receiver(invocation) is { } receiver && IsBclCollection(receiver.Type) && Arguments(invocation).Length == 1:
                var before = Collect(receiver, bindings, origin, depth + 1, elements);
                Add(Arguments(invocation)[0].Value);
                return before;
            case IInvocationOperation { TargetMethod.Name: "AddRange" or "Concat" } invocation when Receiver(invocation) is { } receiver && IsBclCollection(receiver.Type):
                var first = Collect(receiver, bindings, origin, depth + 1, elements);
                return Arguments(invocation).Length == 1 && Collect(Arguments(invocation)[0].Value, bindings, origin, depth + 1, elements) && first;
            case IPropertyReferenceOperation { Property.Name: "Empty", Property.IsStatic: true } emptyProperty when IsEnumerable(emptyProperty.Type):
            case IFieldReferenceOperation { Field.Name: "Empty", Field.IsStatic: true } emptyField when IsEnumerable(emptyField.Type):
            case IInvocationOperation { TargetMethod: { Name: "Empty", ContainingType.Name: "Array" or "Enumerable" } }:
            case IDefaultValueOperation or ILiteralOperation { ConstantValue: { HasValue: true, Value: null } }:
                return true;
            case IConditionalOperation { WhenFalse: { } whenFalse } conditional:
                Collect(conditional.WhenTrue, bindings, origin, depth + 1, elements);
                Collect(whenFalse, bindings, origin, depth + 1, elements);
                return false;
            default:
                var definition = ConstantValues.Definition(operation, bindings, out var definitionBindings);
                return definition is not null && Collect(definition, definitionBindings, origin ?? operation, depth + 1, elements);
        }
    }

    /// <summary>The collection a call works on: its instance, or the first argument of an extension method.</summary>
    private static IOperation? Receiver(IInvocationOperation invocation) =>
        invocation.Instance ?? (invocation.TargetMethod.IsExtensionMethod && invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);

    /// <summary>The arguments of a call other than an extension method's receiver.</summary>
    private static ImmutableArray<IArgumentOperation> Arguments(IInvocationOperation invocation) =>
        invocation.Instance is null && invocation.TargetMethod.IsExtensionMethod ? invocation.Arguments.RemoveAt(0) : invocation.Arguments;

    /// <summary>A collection type of the BCL (System.Collections…, or an array), whose Add and constructors do what their names say.</summary>
    private static bool IsBclCollection(ITypeSymbol? type) =>
        type is IArrayTypeSymbol
        || (IsEnumerable(type) && type!.ContainingNamespace?.ToDisplayString().StartsWith("System.Collections", StringComparison.Ordinal) == true);

    private static bool IsEnumerable(ITypeSymbol? type) =>
        type is not null
        && (type is IArrayTypeSymbol
            || type.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T
            || type.AllInterfaces.Any(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T));

    /// <summary>Whether <paramref name="operation"/> is the operand of a <c>with</c> expression, which the rules read as a whole instead.</summary>
    public static bool IsWithOperand(this IOperation operation) => operation.EnclosingWith() is not null;

    /// <summary>The <c>with</c> expression whose operand <paramref name="operation"/> is, if any.</summary>
    public static IWithOperation? EnclosingWith(this IOperation operation)
    {
        var current = operation;
        while (current.Parent is IConversionOperation conversion)
        {
            current = conversion;
        }

        return current.Parent is IWithOperation with && with.Operand == current ? with : null;
    }

    /// <summary>Whether <paramref name="operation"/> is the operand of a <c>with</c> expression that replaces <paramref name="member"/>.</summary>
    public static bool IsReplacedByWith(this IOperation operation, string member) =>
        operation.EnclosingWith() is { } with && with.Initializer.InitializedMember(member) is not null;

    /// <summary>
    /// The value a <c>with</c> expression (or an object creation's initializer) gives to <paramref name="member"/>,
    /// or null when it leaves the member as it was.
    /// </summary>
    public static IOperation? InitializedMember(this IObjectOrCollectionInitializerOperation? initializer, string member)
    {
        IOperation? value = null;
        foreach (var assignment in initializer?.Initializers ?? ImmutableArray<IOperation>.Empty)
        {
            if (assignment is ISimpleAssignmentOperation simple)
            {
                var name = simple.Target switch
                {
                    IPropertyReferenceOperation property => property.Property.Name,
                    IFieldReferenceOperation field => field.Field.Name,
                    _ => null,
                };
                if (name == member)
                {
                    value = simple.Value.WalkDownConversion();
                }
            }
        }

        return value;
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

/// <summary>An element of a collection, the operation in the analysed code to report it at, and the helper arguments it may read.</summary>
internal readonly struct CollectionElement
{
    public CollectionElement(IOperation value, IOperation origin, Bindings? bindings)
    {
        Value = value;
        Origin = origin;
        Bindings = bindings;
    }

    public IOperation Value { get; }

    /// <summary>Where the element enters the analysed code: the element itself, or the reference to the member that holds it.</summary>
    public IOperation Origin { get; }

    public Bindings? Bindings { get; }
}
