using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace GraphNet.Compiler;

/// <summary>
/// The compile-cache key of a compilation before any stage runs: the part of the user's graph
/// the fetches need (numbered by position, so nodes added elsewhere in the graph change nothing),
/// the feeds, the fetches, the options and the compiler's version. Each op is hashed whole in
/// binary (constants' values included, which the text form shows only as sizes, since a
/// restored plan carries them); a node's output types follow from its op and inputs.
/// </summary>
internal sealed class InputKey
{
    private InputKey(string key, List<Node> provenance) { Key = key; Provenance = provenance; }

    public string Key { get; }

    /// <summary>
    /// The user's nodes the key covers, then every scan body's nodes, in a fixed order. A
    /// restored plan names source lines and forward nodes by position here, so an edit that only
    /// moves lines gets the user's current lines without a recompilation.
    /// </summary>
    public List<Node> Provenance { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static InputKey Of(Unit unit, CompileOptions options)
    {
        var nodes = unit.Graph.Nodes;
        var needed = Passes.Pass.NeededFlags(unit);
        var provenance = new List<Node>();
        var position = new int[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
            if (needed[i]) { position[i] = provenance.Count; provenance.Add(nodes[i]); }
        int covered = provenance.Count;

        using var stream = new MemoryStream(covered * 32);
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            var key = new KeyWriter(w, covered);
            w.Write(covered);
            for (int i = 0; i < covered; i++)
            {
                var n = provenance[i];
                key.Op(n.Op);
                w.Write(n.Inputs.Count);
                foreach (var t in n.Inputs) { w.Write(position[t.Node.Id]); w.Write(t.Index); }
                key.String(n.Name);
                w.Write(n.ForwardOf is { } f && f.Graph == unit.Graph && needed[f.Id] ? position[f.Id] : -1);
            }
            foreach (var list in new[] { unit.Feeds, unit.Fetches })
            {
                w.Write(list.Count);
                foreach (var t in list) { w.Write(position[t.Node.Id]); w.Write(t.Index); }
            }
            w.Write(unit.Graph.Seed); w.Write(options.ToString()); w.Write(Compilation.Version);
        }
        for (int i = 0; i < provenance.Count; i++)
            if (provenance[i].Op is ScanOp scan) provenance.AddRange(scan.Body.Graph.Nodes);
        var hash = SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length));
        return new InputKey(Convert.ToHexString(hash)[..32].ToLowerInvariant(), provenance);
    }

    /// <summary>Ops whole (constants' values included); a scan body by its digest and the values of its constants.</summary>
    private sealed class KeyWriter(BinaryWriter w, int nodes) : OpCodec.Writer(w, nodes)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected override void Body(ScanBody body)
        {
            String(body.Digest);
            foreach (var n in body.Graph.Nodes)
                if (n.Op is ConstantOp or PlaceholderOp or ScanOp) Record(n.Op);
        }
    }
}
