using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Reflection;

namespace GraphNet.Compiler;

/// <summary>
/// Ops and their attribute values in binary, for the compile cache's plans. Like the graph
/// file, an op is written from its record's primary constructor parameters and rebuilt through
/// that constructor, so a new op needs no code here; a value of a type not listed below makes
/// the plan unstorable (<see cref="NotSupportedException"/>), and the compilation simply is not
/// remembered. Scan bodies are left to the subclass: the plan writes them whole, the cache key
/// their digest. Compiled fully optimized at once, as <see cref="PlanFile"/> is.
/// </summary>
internal static class OpCodec
{
    private static readonly Assembly OpAssembly = typeof(Op).Assembly;

    /// <summary>A record type's widest constructor and the property behind each of its parameters.</summary>
    private sealed record RecordLayout(ConstructorInfo Ctor, ParameterInfo[] Parameters, PropertyInfo[] Properties);

    private static readonly ConcurrentDictionary<Type, RecordLayout> Layouts = new();
    private static readonly ConcurrentDictionary<string, Type?> TypesByName = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RecordLayout LayoutOf(Type t) => Layouts.GetOrAdd(t, type =>
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var ps = ctor.GetParameters();
        var props = ps.Select(p => type.GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new NotSupportedException($"{type.Name}'s parameter '{p.Name}' has no property of that name")).ToArray();
        return new RecordLayout(ctor, ps, props);
    });

    /// <summary>A record type of the graph library, by name.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Type TypeNamed(string name) => TypesByName.GetOrAdd(name, n => OpAssembly.GetType(n))
        ?? throw new InvalidDataException($"unknown type '{name}'");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Nullable(Type t) => !t.IsValueType || System.Nullable.GetUnderlyingType(t) is not null;

    /// <summary>
    /// Writes records and values; strings are written once and named by number after that. <paramref name="nodes"/>
    /// sizes the tables for a graph of that many nodes (each has a name and an op), so they are not regrown.
    /// </summary>
    internal abstract class Writer(BinaryWriter w, int nodes = 0)
    {
        protected BinaryWriter W => w;
        private readonly Dictionary<string, int> strings = new(nodes);

        /// <summary>
        /// Writes a value's number when the table has it and returns true; else writes −1 and
        /// numbers it, and the caller writes it whole (the reader's <see cref="Reader.Numbered"/>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected bool Numbered<T>(Dictionary<T, int> table, T value) where T : notnull
        {
            if (table.TryGetValue(value, out int i)) { w.Write(i); return true; }
            table[value] = table.Count;
            w.Write(-1);
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void String(string s)
        {
            if (!Numbered(strings, s)) w.Write(s);
        }

        /// <summary>A scan body (the plan writes it whole, the cache key its digest).</summary>
        protected abstract void Body(ScanBody body);

        private readonly Dictionary<GraphNet.Op, int> ops = new(nodes);
        private readonly Dictionary<TensorType, int> types = [];

        /// <summary>An op, written whole on its first use and by number after that (ops are records: equal ops are one).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Op(GraphNet.Op op)
        {
            if (!Numbered(ops, op)) Record(op);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Type(TensorType t)
        {
            if (!Numbered(types, t)) { w.Write((int)t.DType); WriteInts(w, t.Shape.Dims); }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Record(object record)
        {
            var type = record.GetType();
            if (type.Assembly != OpAssembly) throw new NotSupportedException($"{type.Name} is not a graph library type");
            String(type.FullName!);
            var layout = LayoutOf(type);
            for (int i = 0; i < layout.Parameters.Length; i++)
                Value(layout.Properties[i].GetValue(record), layout.Parameters[i].ParameterType);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Value(object? v, Type t)
        {
            if (Nullable(t))
            {
                w.Write(v is not null);
                if (v is null) return;
            }
            switch (v)
            {
                case bool b: w.Write(b); break;
                case int i: w.Write(i); break;
                case long l: w.Write(l); break;
                case double d: w.Write(d); break;
                case float f: w.Write(f); break;
                case string s: String(s); break;
                case Enum e: w.Write(Convert.ToInt64(e)); break;
                case int[] a: WriteInts(w, a); break;
                case Shape s: WriteInts(w, s.Dims); break;
                case TensorType tt: Type(tt); break;
                case UnaryFn u when Pointwise.Unary.Contains(u): String(u.Name); break;
                case BinaryFn b2 when Pointwise.Binary.Contains(b2): String(b2.Name); break;
                case UnaryFn u: throw new NotSupportedException($"unary function '{u.Name}' is not a listed one");
                case BinaryFn b2: throw new NotSupportedException($"binary function '{b2.Name}' is not a listed one");
                case NDArray a:
                    w.Write((int)a.DType); WriteInts(w, a.Shape); var bytes = a.AsBytes(); w.Write(bytes.Length); w.Write(bytes);
                    break;
                case ScanBody body: Body(body); break;
                case GraphNet.Op or Initializer or ConvParams or PoolParams: Record(v); break;
                default: throw new NotSupportedException($"a {v!.GetType().Name} attribute");
            }
        }
    }

    /// <summary>Reads what <see cref="Writer"/> wrote.</summary>
    internal abstract class Reader(BinaryReader r)
    {
        protected BinaryReader R => r;
        private readonly List<string> strings = [];

        /// <summary>A value by its number in the table, or read whole (and numbered) after a −1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected T Numbered<T>(List<T> table, Func<T> read, string what)
        {
            int i = r.ReadInt32();
            if (i >= 0) return i < table.Count ? table[i] : throw new InvalidDataException($"{what} {i} of {table.Count}");
            // The writer numbered this value before writing it whole, so values inside it (a scan
            // body's ops inside its scan) come after it: hold its place while they are read.
            int place = table.Count;
            table.Add(default!);
            return table[place] = read();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public string String() => Numbered(strings, r.ReadString, "string");

        protected abstract ScanBody Body();

        private readonly List<GraphNet.Op> ops = [];
        private readonly List<TensorType> types = [];

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public GraphNet.Op Op() =>
            Numbered(ops, () => Record() as GraphNet.Op ?? throw new InvalidDataException("a value where an op belongs"), "op");

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public TensorType Type() => Numbered(types, () =>
        {
            var dtype = (DType)r.ReadInt32();
            return new TensorType(dtype, new Shape(ReadInts(r)));
        }, "type");

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public object Record()
        {
            var layout = LayoutOf(TypeNamed(String()));
            var args = new object?[layout.Parameters.Length];
            for (int i = 0; i < args.Length; i++) args[i] = Value(layout.Parameters[i].ParameterType);
            return layout.Ctor.Invoke(args);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private object? Value(Type t)
        {
            if (Nullable(t) && !r.ReadBoolean()) return null;
            t = System.Nullable.GetUnderlyingType(t) ?? t;
            if (t == typeof(bool)) return r.ReadBoolean();
            if (t == typeof(int)) return r.ReadInt32();
            if (t == typeof(long)) return r.ReadInt64();
            if (t == typeof(double)) return r.ReadDouble();
            if (t == typeof(float)) return r.ReadSingle();
            if (t == typeof(string)) return String();
            if (t.IsEnum) return Enum.ToObject(t, r.ReadInt64());
            if (t == typeof(int[])) return ReadInts(r);
            if (t == typeof(Shape)) return new Shape(ReadInts(r));
            if (t == typeof(TensorType)) return Type();
            if (t == typeof(UnaryFn)) return Listed(Pointwise.Unary, f => f.Name, String());
            if (t == typeof(BinaryFn)) return Listed(Pointwise.Binary, f => f.Name, String());
            if (t == typeof(NDArray))
            {
                var dtype = (DType)r.ReadInt32();
                var a = NDArray.Zeros(dtype, ReadInts(r));
                int length = r.ReadInt32();
                if (length != a.AsBytes().Length) throw new InvalidDataException($"a {dtype} value of {a.Size} elements holds {length} bytes");
                r.BaseStream.ReadExactly(a.AsBytes());
                return a;
            }
            if (t == typeof(ScanBody)) return Body();
            if (t.IsAssignableTo(typeof(GraphNet.Op)) || t.IsAssignableTo(typeof(Initializer)) || t == typeof(ConvParams) || t == typeof(PoolParams))
            {
                var value = Record();
                return t.IsInstanceOfType(value) ? value : throw new InvalidDataException($"a {value.GetType().Name} where a {t.Name} belongs");
            }
            throw new InvalidDataException($"cannot read a {t.Name}");
        }

        private static T Listed<T>(IReadOnlyList<T> functions, Func<T, string> nameOf, string name) where T : class =>
            functions.FirstOrDefault(f => nameOf(f) == name) ?? throw new InvalidDataException($"unknown pointwise function '{name}'");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteInts(BinaryWriter w, IReadOnlyList<int> a)
    {
        w.Write(a.Count);
        foreach (var x in a) w.Write(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int[] ReadInts(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > r.BaseStream.Length / 4) throw new InvalidDataException($"a list of {n} numbers");
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.ReadInt32();
        return a;
    }
}
