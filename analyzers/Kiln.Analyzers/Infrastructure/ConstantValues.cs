using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>A value known at compile time, and the operation in the analysed code where it enters (where to report it).</summary>
internal readonly struct KnownValue
{
    public KnownValue(object? value, IOperation origin)
    {
        Value = value;
        Origin = origin;
    }

    public object? Value { get; }

    /// <summary>
    /// The operation in the code being analysed that produces the value: the literal itself, a ternary's branch, or
    /// the reference to a field, property or method declared elsewhere (a diagnostic belongs where the spec uses it).
    /// </summary>
    public IOperation Origin { get; }
}

/// <summary>
/// Reads the values a spec expression can take at compile time, however the spec writes them: literals and
/// constants, static readonly fields and get-only properties initialised with one, helper properties and methods
/// whose body is one expression (or locals and one return), parameters of such helpers bound to their arguments,
/// string interpolation and concatenation, and ternaries, <c>??</c> and switch expressions whose every arm is known.
/// Anything else (a mutable field, a virtual member a subclass can override, a value a constructor assigns, a call into
/// another assembly) is unknown, and a rule says nothing about an unknown value: a doubt is never a diagnostic.
/// </summary>
internal static class ConstantValues
{
    // Bounds on the work one expression can cause: helpers calling helpers, and the values of nested ternaries.
    private const int MaxDepth = 12;
    private const int MaxValues = 32;

    /// <summary>Every value <paramref name="operation"/> can take, when each is known; false when any is not.</summary>
    public static bool TryGetValues(IOperation? operation, out List<KnownValue> values) => TryGetValues(operation, null, out values);

    /// <param name="bindings">The arguments of the helper call <paramref name="operation"/> is read in, if any.</param>
    public static bool TryGetValues(IOperation? operation, Bindings? bindings, out List<KnownValue> values)
    {
        values = [];
        return operation is not null && Resolve(operation, bindings, null, 0, values);
    }

    /// <summary>The value of <paramref name="operation"/> when it is known and the only one possible.</summary>
    public static bool TryGetValue(IOperation? operation, Bindings? bindings, out object? value)
    {
        if (operation is { ConstantValue.HasValue: true })
        {
            value = operation.ConstantValue.Value;
            return true;
        }

        if (TryGetValues(operation, bindings, out var values) && values.Count > 0 && values.All(v => Equals(v.Value, values[0].Value)))
        {
            value = values[0].Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>
    /// The operation that defines the value of a reference to a field, property, local or helper method (its
    /// initializer or its one returned expression), with the parameters of a helper bound to the call's arguments.
    /// Null when the reference has no single definition Kiln can trust.
    /// </summary>
    public static IOperation? Definition(IOperation operation, Bindings? bindings, out Bindings? definitionBindings)
    {
        definitionBindings = null;
        switch (operation)
        {
            case IFieldReferenceOperation { Field: var field } when field.IsReadOnly || field.IsConst:
                return InitializerOf(field, operation);
            case IPropertyReferenceOperation { Property: var property, Arguments.Length: 0 } when IsFixed(property):
                return BodyOf(property, operation);
            case IInvocationOperation { TargetMethod: var method } invocation when IsFixed(method):
                var body = BodyOf(method, operation);
                if (body is null)
                {
                    return null;
                }

                var bound = new Dictionary<IParameterSymbol, (IOperation, Bindings?)>(SymbolEqualityComparer.Default);
                foreach (var argument in invocation.Arguments)
                {
                    if (argument.Parameter is { } parameter)
                    {
                        bound[parameter.OriginalDefinition] = (argument.Value, bindings);
                    }
                }

                definitionBindings = new Bindings(bound);
                return body;
            case ILocalReferenceOperation { Local: var local } when !local.IsRef:
                definitionBindings = bindings;
                return LocalInitializer(local, operation);
            case IParameterReferenceOperation { Parameter: var parameter } when bindings is not null
                && bindings.Values.TryGetValue(parameter.OriginalDefinition, out var argumentValue):
                definitionBindings = argumentValue.Item2;
                return argumentValue.Item1;
            default:
                return null;
        }
    }

    private static bool Resolve(IOperation operation, Bindings? bindings, IOperation? origin, int depth, List<KnownValue> values)
    {
        if (depth > MaxDepth || values.Count > MaxValues)
        {
            return false;
        }

        var here = origin ?? operation;
        if (operation.ConstantValue.HasValue)
        {
            values.Add(new KnownValue(operation.ConstantValue.Value, here));
            return true;
        }

        switch (operation)
        {
            case IConversionOperation conversion:
                return ResolveConversion(conversion, bindings, origin, depth, values);
            case IThrowOperation:
                // A throwing arm (`_ => throw …`) produces no value.
                return true;
            case IConditionalOperation { WhenFalse: { } whenFalse } conditional:
                if (TryGetBool(conditional.Condition, bindings, out var condition))
                {
                    return Resolve(condition ? conditional.WhenTrue : whenFalse, bindings, origin, depth + 1, values);
                }

                return Resolve(conditional.WhenTrue, bindings, origin, depth + 1, values) && Resolve(whenFalse, bindings, origin, depth + 1, values);
            case ICoalesceOperation coalesce:
                var left = new List<KnownValue>();
                if (!Resolve(coalesce.Value, bindings, origin, depth + 1, left))
                {
                    return false;
                }

                values.AddRange(left.Where(v => v.Value is not null));
                return left.All(v => v.Value is not null) || Resolve(coalesce.WhenNull, bindings, origin, depth + 1, values);
            case ISwitchExpressionOperation @switch:
                if (TrySelectArm(@switch, bindings) is { } selected)
                {
                    return Resolve(selected.Value, bindings, origin, depth + 1, values);
                }

                foreach (var arm in @switch.Arms)
                {
                    if (!Resolve(arm.Value, bindings, origin, depth + 1, values))
                    {
                        return false;
                    }
                }

                return @switch.Arms.Length > 0;
            case IInterpolatedStringOperation interpolated:
                return ResolveInterpolation(interpolated, bindings, here, depth, values);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add, Type.SpecialType: SpecialType.System_String } concatenation:
                return Concatenate([concatenation.LeftOperand, concatenation.RightOperand], bindings, here, depth, values);
            case IParenthesizedOperation parenthesized:
                return Resolve(parenthesized.Operand, bindings, origin, depth, values);
            default:
                var definition = Definition(operation, bindings, out var definitionBindings);
                return definition is not null && Resolve(definition, definitionBindings, here, depth + 1, values);
        }
    }

    private static bool ResolveConversion(IConversionOperation conversion, Bindings? bindings, IOperation? origin, int depth, List<KnownValue> values)
    {
        if (conversion.OperatorMethod is not null)
        {
            return false;
        }

        var operand = new List<KnownValue>();
        if (!Resolve(conversion.Operand, bindings, origin, depth, operand))
        {
            return false;
        }

        foreach (var value in operand)
        {
            if (!Convert(value.Value, conversion.Type, out var converted))
            {
                return false;
            }

            values.Add(new KnownValue(converted, value.Origin));
        }

        return true;
    }

    private static bool Convert(object? value, ITypeSymbol? type, out object? converted)
    {
        converted = value;
        switch (type?.SpecialType)
        {
            case SpecialType.System_Object or SpecialType.System_String:
                return value is null or string || type.SpecialType == SpecialType.System_Object;
            case SpecialType.System_Int32 when value is byte or sbyte or short or ushort or int or char:
                converted = System.Convert.ToInt32(value, CultureInfo.InvariantCulture);
                return true;
            case SpecialType.System_Int64 when value is byte or sbyte or short or ushort or int or uint or long or char:
                converted = System.Convert.ToInt64(value, CultureInfo.InvariantCulture);
                return true;
            default:
                // A nullable wrapper (int?) keeps the value; anything else (enum, user type) is not read.
                return type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };
        }
    }

    private static bool ResolveInterpolation(IInterpolatedStringOperation interpolated, Bindings? bindings, IOperation origin, int depth, List<KnownValue> values)
    {
        var parts = new List<IOperation>();
        foreach (var part in interpolated.Parts)
        {
            switch (part)
            {
                case IInterpolatedStringTextOperation text:
                    parts.Add(text.Text);
                    break;
                case IInterpolationOperation { Alignment: null, FormatString: null } hole:
                    parts.Add(hole.Expression);
                    break;
                default:
                    // Alignment and format strings depend on the culture and on formatting rules: not read.
                    return false;
            }
        }

        return Concatenate(parts, bindings, origin, depth, values);
    }

    /// <summary>Every combination of the parts' values, joined as C# would format them in an invariant way.</summary>
    private static bool Concatenate(List<IOperation> parts, Bindings? bindings, IOperation origin, int depth, List<KnownValue> values)
    {
        var results = new List<string> { string.Empty };
        foreach (var part in parts)
        {
            // An enum is formatted by its member's name, which its constant value does not carry: not read.
            if (part.WalkDownConversion().Type is { TypeKind: TypeKind.Enum })
            {
                return false;
            }

            var partValues = new List<KnownValue>();
            if (!Resolve(part, bindings, origin, depth + 1, partValues))
            {
                return false;
            }

            var next = new List<string>();
            foreach (var prefix in results)
            {
                foreach (var value in partValues)
                {
                    if (!Format(value.Value, out var text))
                    {
                        return false;
                    }

                    next.Add(prefix + text);
                }
            }

            if (next.Count > MaxValues)
            {
                return false;
            }

            results = next;
        }

        foreach (var result in results.Distinct(StringComparer.Ordinal))
        {
            values.Add(new KnownValue(result, origin));
        }

        return true;
    }

    /// <summary>The text C# produces for a value in an interpolation or concatenation, when it is the same in every culture.</summary>
    private static bool Format(object? value, out string text)
    {
        switch (value)
        {
            case null:
                text = string.Empty;
                return true;
            case string s:
                text = s;
                return true;
            case char c:
                text = c.ToString();
                return true;
            case bool b:
                text = b ? "True" : "False";
                return true;
            // Negative numbers use the culture's minus sign: not read.
            case int i when i >= 0:
                text = i.ToString(CultureInfo.InvariantCulture);
                return true;
            case long l when l >= 0:
                text = l.ToString(CultureInfo.InvariantCulture);
                return true;
            default:
                text = string.Empty;
                return false;
        }
    }

    /// <summary>The arm a switch expression takes when its value is known and the arms up to it are constants or a discard.</summary>
    private static ISwitchExpressionArmOperation? TrySelectArm(ISwitchExpressionOperation @switch, Bindings? bindings)
    {
        if (!TryGetValue(@switch.Value, bindings, out var governing))
        {
            return null;
        }

        foreach (var arm in @switch.Arms)
        {
            if (arm.Guard is not null)
            {
                return null;
            }

            switch (arm.Pattern)
            {
                case IDiscardPatternOperation:
                    return arm;
                case IConstantPatternOperation constant when TryGetValue(constant.Value, bindings, out var candidate):
                    if (Equals(candidate, governing))
                    {
                        return arm;
                    }

                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>
    /// A condition's value when it is known: a constant, a known bool (a static readonly flag), its negation, or the
    /// equality of two known values. A dead branch is then never checked.
    /// </summary>
    private static bool TryGetBool(IOperation operation, Bindings? bindings, out bool value)
    {
        value = false;
        switch (operation.WalkDownConversion())
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not when TryGetBool(not.Operand, bindings, out var operand):
                value = !operand;
                return true;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.And, OperatorMethod: null } conjunction
                when TryGetBool(conjunction.LeftOperand, bindings, out var left) && (!left || TryGetBool(conjunction.RightOperand, bindings, out value)):
                value = left && value;
                return true;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr or BinaryOperatorKind.Or, OperatorMethod: null } disjunction
                when TryGetBool(disjunction.LeftOperand, bindings, out var left) && (left || TryGetBool(disjunction.RightOperand, bindings, out value)):
                value = left || value;
                return true;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals, OperatorMethod: null } comparison
                when TryGetValue(comparison.LeftOperand, bindings, out var leftValue) && TryGetValue(comparison.RightOperand, bindings, out var rightValue):
                value = Equals(leftValue, rightValue) == (comparison.OperatorKind == BinaryOperatorKind.Equals);
                return true;
            case var other when TryGetValue(other, bindings, out var known) && known is bool b:
                value = b;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether a member's value is the one its declaration shows: declared in source, not abstract, and not
    /// replaceable by an override (not virtual, or sealed, or in a sealed type).
    /// </summary>
    private static bool IsFixed(ISymbol member) =>
        !member.IsAbstract
        && !member.IsExtern
        && (!(member.IsVirtual || member.IsOverride) || member.IsSealed || member.ContainingType is { IsSealed: true })
        && member.DeclaringSyntaxReferences.Length == 1;

    /// <summary>The initializer of a readonly field, unless a constructor of its type may assign it.</summary>
    private static IOperation? InitializerOf(IFieldSymbol field, IOperation reference)
    {
        if (field.DeclaringSyntaxReferences.Length != 1
            || field.DeclaringSyntaxReferences[0].GetSyntax() is not VariableDeclaratorSyntax { Initializer.Value: { } value }
            || AssignedInConstructor(field.ContainingType, field.Name))
        {
            return null;
        }

        return OperationOf(value, reference);
    }

    /// <summary>
    /// The expression a property getter or method returns: an expression body, a block of local declarations and one
    /// return, or the initializer of a get-only auto-property that no constructor assigns.
    /// </summary>
    private static IOperation? BodyOf(ISymbol member, IOperation reference)
    {
        var syntax = member.DeclaringSyntaxReferences[0].GetSyntax();
        switch (syntax)
        {
            case PropertyDeclarationSyntax { ExpressionBody.Expression: { } expression }:
                return OperationOf(expression, reference);
            case PropertyDeclarationSyntax { AccessorList: { } accessors } property:
                var getter = accessors.Accessors.FirstOrDefault(a => a.IsKind(SyntaxKind.GetAccessorDeclaration));
                if (getter is null)
                {
                    return null;
                }

                if (getter.ExpressionBody is { } getterExpression)
                {
                    return OperationOf(getterExpression.Expression, reference);
                }

                if (getter.Body is { } getterBody)
                {
                    return ReturnedExpression(getterBody, reference);
                }

                // An auto-property: its initializer, when nothing else can set it.
                return accessors.Accessors.Count == 1 && property.Initializer is { Value: { } initial } && !AssignedInConstructor(member.ContainingType, member.Name)
                    ? OperationOf(initial, reference)
                    : null;
            case MethodDeclarationSyntax { ExpressionBody.Expression: { } expression }:
                return OperationOf(expression, reference);
            case MethodDeclarationSyntax { Body: { } body }:
                return ReturnedExpression(body, reference);
            case LocalFunctionStatementSyntax { ExpressionBody.Expression: { } expression }:
                return OperationOf(expression, reference);
            case LocalFunctionStatementSyntax { Body: { } body }:
                return ReturnedExpression(body, reference);
            default:
                return null;
        }
    }

    /// <summary>The expression of a block made of local declarations followed by one <c>return</c>.</summary>
    private static IOperation? ReturnedExpression(BlockSyntax body, IOperation reference)
    {
        var statements = body.Statements;
        if (statements.Count == 0 || statements[statements.Count - 1] is not ReturnStatementSyntax { Expression: { } expression })
        {
            return null;
        }

        for (var i = 0; i < statements.Count - 1; i++)
        {
            if (statements[i] is not LocalDeclarationStatementSyntax)
            {
                return null;
            }
        }

        return OperationOf(expression, reference);
    }

    /// <summary>The initializer of a local that is never assigned again in the code around it.</summary>
    private static IOperation? LocalInitializer(ILocalSymbol local, IOperation reference)
    {
        if (local.DeclaringSyntaxReferences.Length != 1
            || local.DeclaringSyntaxReferences[0].GetSyntax() is not VariableDeclaratorSyntax { Initializer.Value: { } value, Parent.Parent: LocalDeclarationStatementSyntax } declarator)
        {
            return null;
        }

        var scope = declarator.FirstAncestorOrSelf<MemberDeclarationSyntax>() as SyntaxNode ?? declarator.SyntaxTree.GetRoot();
        return IsWrittenAfterDeclaration(scope, local.Name) ? null : OperationOf(value, reference);
    }

    /// <summary>Whether a constructor of <paramref name="type"/> may assign the member called <paramref name="name"/>.</summary>
    public static bool AssignedInConstructor(INamedTypeSymbol type, string name)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is TypeDeclarationSyntax declaration)
            {
                foreach (var constructor in declaration.Members.OfType<ConstructorDeclarationSyntax>())
                {
                    if (IsWrittenAfterDeclaration(constructor, name))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="scope"/> assigns <paramref name="name"/>, increments it, or passes it by reference.</summary>
    private static bool IsWrittenAfterDeclaration(SyntaxNode scope, string name)
    {
        foreach (var token in scope.DescendantTokens())
        {
            if (!token.IsKind(SyntaxKind.IdentifierToken) || token.ValueText != name || token.Parent is not IdentifierNameSyntax identifier)
            {
                continue;
            }

            SyntaxNode target = identifier;
            if (identifier.Parent is MemberAccessExpressionSyntax { Name: var accessed } member && accessed == identifier)
            {
                target = member;
            }

            switch (target.Parent)
            {
                case AssignmentExpressionSyntax assignment when assignment.Left == target:
                case PrefixUnaryExpressionSyntax or PostfixUnaryExpressionSyntax:
                case ArgumentSyntax { RefKindKeyword.RawKind: not 0 }:
                case ArgumentSyntax { Parent: TupleExpressionSyntax }:
                case RefExpressionSyntax:
                    return true;
            }
        }

        return false;
    }

    /// <summary>The operation of an expression declared anywhere in the compilation of <paramref name="reference"/>.</summary>
    private static IOperation? OperationOf(ExpressionSyntax expression, IOperation reference)
    {
        if (reference.SemanticModel is not { } model)
        {
            return null;
        }

        if (expression.SyntaxTree != model.SyntaxTree)
        {
            if (!model.Compilation.ContainsSyntaxTree(expression.SyntaxTree))
            {
                return null;
            }

#pragma warning disable RS1030 // The declaration is in another file: its model comes from the compilation, which caches it for the analyzer driver.
            model = model.Compilation.GetSemanticModel(expression.SyntaxTree);
#pragma warning restore RS1030
        }

        return model.GetOperation(expression);
    }
}

/// <summary>The arguments a helper was called with, by parameter, with the bindings of the caller they are read in.</summary>
internal sealed class Bindings
{
    public Bindings(Dictionary<IParameterSymbol, (IOperation, Bindings?)> values) => Values = values;

    public Dictionary<IParameterSymbol, (IOperation, Bindings?)> Values { get; }
}
