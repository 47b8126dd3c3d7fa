package config

import (
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml/ast"
)

// anchors maps each alias (*name) to the value its anchor (&name) marks.
type anchors map[*ast.AliasNode]ast.Node

// extent is a node's size and depth with every alias in it expanded.
type extent struct{ size, depth int }

// resolver follows anchors and aliases as YAML reads them: in document order,
// an alias naming the most recent anchor before it.
type resolver struct {
	d     *decoder
	named map[string]ast.Node // anchor name → value, as defined so far
	open  map[ast.Node]bool   // anchored values the walk is inside of
	done  map[ast.Node]extent // anchored values walked, by expanded extent
	worst *ast.AliasNode      // the alias that stands for the most nodes
	most  int                 // how many
	deep  *ast.AliasNode      // the first alias that nests the document too deep
	cycle bool                // an alias inside its own anchor was reported
}

// resolve records every alias's target in d.anchors and refuses what
// expanding them would make of the document: an alias inside the value its
// anchor marks (`rule: &r {any: [x, *r]}`, a value containing itself, which
// goccy and the path index would expand until memory runs out), and aliases
// that expand it past maxNodes nodes or maxDepth levels (billion laughs).
// Sizes are counted, never expanded, so this costs one pass over the nodes
// as written. It reports false when the document must not be decoded.
func (d *decoder) resolve(root ast.Node) bool {
	r := &resolver{d: d, named: map[string]ast.Node{}, open: map[ast.Node]bool{}, done: map[ast.Node]extent{}}
	total := r.walk(root, 1)
	switch {
	case r.cycle:
		return false
	case r.deep != nil:
		d.add(r.deep, "", fmt.Sprintf("aliases nest the config deeper than %d levels", maxDepth),
			"*"+scalarText(r.deep.Value)+" here repeats a value that itself holds aliases; write the values out")
		return false
	case total.size > maxNodes && r.worst != nil:
		d.add(r.worst, "", fmt.Sprintf("aliases expand the config to more than %d YAML nodes", maxNodes),
			fmt.Sprintf("*%s here alone repeats %s nodes: aliases that repeat anchors that themselves repeat others grow exponentially; write the values out",
				scalarText(r.worst.Value), countText(r.most)))
		return false
	case total.size > maxNodes:
		d.add(nil, "", fmt.Sprintf("the config has more than %d YAML nodes", maxNodes), "check that this is the right file")
		return false
	}
	return true
}

func countText(n int) string {
	if n > maxNodes {
		return fmt.Sprintf("more than %d", maxNodes)
	}
	return fmt.Sprint(n)
}

// saturate keeps expanded sizes from overflowing: anything past maxNodes is
// refused, however far past.
func saturate(n int) int { return min(n, maxNodes+1) }

func (r *resolver) walk(node ast.Node, depth int) extent {
	if node == nil || reflect.ValueOf(node).IsNil() {
		return extent{}
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		r.named[scalarText(n.Name)] = n.Value
		r.open[n.Value] = true
		e := r.walk(n.Value, depth)
		delete(r.open, n.Value)
		r.done[n.Value] = e
		return e
	case *ast.AliasNode:
		target, ok := r.named[scalarText(n.Value)]
		if !ok {
			return extent{1, 1} // an unknown anchor: goccy reports it
		}
		if r.open[target] {
			line, col := position(target)
			r.d.add(n, "", fmt.Sprintf("alias *%s is inside the value its anchor &%s marks (line %d), so that value would contain itself", scalarText(n.Value), scalarText(n.Value), line),
				fmt.Sprintf("an alias repeats a value defined before it; write this part out instead (the anchor's value starts at %d:%d)", line, col))
			r.cycle = true
			return extent{1, 1}
		}
		r.d.anchors[n] = target
		e := r.done[target]
		if e.size > r.most {
			r.worst, r.most = n, e.size
		}
		if depth+e.depth-1 > maxDepth && r.deep == nil {
			r.deep = n
		}
		return e
	case *ast.TagNode:
		return r.walk(n.Value, depth)
	case *ast.MappingKeyNode:
		return r.walk(n.Value, depth)
	case *ast.MappingNode:
		e := extent{1, 1}
		for _, mv := range n.Values {
			c := r.walk(mv, depth+1)
			e.size, e.depth = saturate(e.size+c.size), max(e.depth, c.depth+1)
		}
		return e
	case *ast.MappingValueNode:
		k, v := r.walk(n.Key, depth), r.walk(n.Value, depth)
		return extent{saturate(k.size + v.size), max(k.depth, v.depth)}
	case *ast.SequenceNode:
		e := extent{1, 1}
		for _, v := range n.Values {
			c := r.walk(v, depth+1)
			e.size, e.depth = saturate(e.size+c.size), max(e.depth, c.depth+1)
		}
		return e
	}
	return extent{1, 1}
}

// merge replaces YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`) by the
// entries they bring in, the way YAML 1.1 defines them: a key written in the
// map wins over a merged one, and an earlier merged map over a later one.
// Merged entries are the anchor's own nodes, so a problem in one is reported
// where it is written. It runs after resolve (aliases point backwards, so
// every anchored map is merged before anything merges it) and returns node or
// the map that replaces it.
func (d *decoder) merge(node ast.Node) ast.Node {
	if node == nil || reflect.ValueOf(node).IsNil() {
		return node
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		v := d.merge(n.Value)
		if v != n.Value {
			for alias, target := range d.anchors {
				if target == n.Value {
					d.anchors[alias] = v
				}
			}
			n.Value = v
		}
	case *ast.TagNode:
		n.Value = d.merge(n.Value)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			n.Values[i] = d.merge(v)
		}
	case *ast.MappingValueNode:
		if n.Key.IsMergeKey() {
			// A map of one entry, and that entry a merge: goccy has no
			// MappingNode around it, so make one.
			m := ast.Mapping(n.GetToken(), false, n)
			d.mergeEntries(m)
			return m
		}
		n.Value = d.merge(n.Value)
	case *ast.MappingNode:
		for _, mv := range n.Values {
			if !mv.Key.IsMergeKey() {
				mv.Value = d.merge(mv.Value)
			}
		}
		d.mergeEntries(n)
	}
	return node
}

func (d *decoder) mergeEntries(m *ast.MappingNode) {
	var merges []*ast.MappingValueNode
	seen := map[string]bool{}
	out := m.Values[:0:0]
	for _, mv := range m.Values {
		if mv.Key.IsMergeKey() {
			merges = append(merges, mv)
			continue
		}
		seen[scalarText(mv.Key)] = true
		out = append(out, mv)
	}
	if len(merges) == 0 {
		return
	}
	for _, mv := range merges {
		var maps []ast.Node
		v := unwrap(mv.Value, d.anchors)
		if seq, ok := v.(*ast.SequenceNode); ok {
			maps = seq.Values
		} else {
			maps = []ast.Node{mv.Value}
		}
		for _, src := range maps {
			target := unwrap(src, d.anchors)
			if _, isAlias := src.(*ast.AliasNode); !isAlias {
				target = unwrap(d.merge(src), d.anchors) // a map written in place: merge its own merges first
			}
			values, ok := entries(target)
			if !ok {
				d.add(src, "", fmt.Sprintf("the merge key `<<` merges a map or a list of maps, got %s", kindName(target)),
					"write `<<: *name` where &name marks a map of keys")
				continue
			}
			for _, e := range values {
				if k := scalarText(e.Key); !seen[k] {
					seen[k] = true
					out = append(out, e)
				}
			}
		}
	}
	m.Values = out
}
