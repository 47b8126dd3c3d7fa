package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/newsdesk/newsdesk/internal/topic"
)

// fields are the story parts a clause's `in` may name.
var fields = []topic.Field{topic.Title, topic.Summary, topic.Content, topic.Categories,
	topic.Author, topic.SourceName, topic.LinkHost}

// rule converts one clause at path. A bare scalar is a term (a phrase when
// it has spaces); a map holds exactly one of term, regex, any, all or not,
// plus modifiers. It reports every mistake it finds and returns ok=false if
// there were any, so topic.New only sees well-formed rules.
func (d *decoder) rule(node ast.Node, path string) (topic.Rule, bool) {
	node = unwrap(node, d.anchors)
	if !d.spend(node) {
		return topic.Rule{}, false
	}
	if isNull(node) {
		d.add(node, path, fmt.Sprintf("`%s` is empty", clause(path)),
			"give it a word, or a map such as {any: [asylum, deportation]}")
		return topic.Rule{}, false
	}
	if isScalar(node) {
		term := strings.TrimSpace(scalarText(node))
		if term == "" {
			d.add(node, path, fmt.Sprintf("`%s` has an empty term", clause(path)), "write a word or phrase, or remove the item")
			return topic.Rule{}, false
		}
		return topic.Rule{Term: term}, true
	}
	values, isMap := entries(node)
	if !isMap {
		hint := "write a word, or a map such as {any: [word, other word]}"
		if _, isSeq := node.(*ast.SequenceNode); isSeq {
			hint = "to match any of several words, write `" + last(path) + ": {any: [...]}`"
		}
		d.add(node, path, fmt.Sprintf("`%s` expects a word or a map, got %s", last(path), kindName(node)), hint)
		return topic.Rule{}, false
	}
	var r topic.Rule
	ok := true
	var kinds []string
	for _, mv := range values {
		key := scalarText(mv.Key)
		sub := join(path, key)
		v := unwrap(mv.Value, d.anchors)
		switch key {
		case "term", "regex":
			kinds = append(kinds, key)
			if !isScalar(v) || strings.TrimSpace(scalarText(v)) == "" {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a non-empty word or pattern, got %s", key, kindName(v)),
					"write `"+key+": text`; quote patterns with single quotes")
				ok = false
				continue
			}
			if key == "term" {
				r.Term = strings.TrimSpace(scalarText(v))
			} else {
				r.Regex = scalarText(v)
			}
		case "case":
			b, isBool := v.(*ast.BoolNode)
			if !isBool {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`case` expects true or false, got %s", kindName(v)), "write `case: true` for a case-sensitive match")
				ok = false
				continue
			}
			r.Case = b.Value
		case "any", "all":
			kinds = append(kinds, key)
			seq, isSeq := v.(*ast.SequenceNode)
			if !isSeq || len(seq.Values) == 0 {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a non-empty list of clauses, got %s", key, kindName(v)),
					"write `"+key+": [word, {regex: '...'}]` or one clause per line starting with '- '")
				ok = false
				continue
			}
			children := make([]topic.Rule, 0, len(seq.Values))
			for i, c := range seq.Values {
				child, cok := d.rule(c, sub+"["+strconv.Itoa(i)+"]")
				ok = ok && cok
				children = append(children, child)
			}
			if key == "any" {
				r.Any = children
			} else {
				r.All = children
			}
		case "not":
			kinds = append(kinds, key)
			if isNull(v) {
				d.add(mv.Key, sub, "`not` is empty", "give it the clause to exclude, e.g. `not: {term: football}`")
				ok = false
				continue
			}
			child, cok := d.rule(mv.Value, sub)
			ok = ok && cok
			r.Not = &child
		case "in":
			in, iok := d.fields(v, mv, sub)
			ok = ok && iok
			r.In = in
		case "weight", "min_score":
			f, fok := number(v)
			if !fok || f < 0 {
				d.add(keyOr(v, mv), sub, fmt.Sprintf("`%s` expects a number of 0 or more, got %s", key, kindName(v)), "write e.g. `"+key+": 2`")
				ok = false
				continue
			}
			if key == "weight" {
				r.Weight = f
			} else {
				r.MinScore = f
			}
		default:
			d.unknownKey(mv.Key, sub, key, ruleKeys)
			ok = false
		}
	}
	switch {
	case len(kinds) == 0 && ok:
		d.add(node, path, fmt.Sprintf("`%s` has none of term, regex, any, all or not", clause(path)),
			"give it one of term, regex, any, all or not, e.g. {any: [asylum, deportation]}")
		ok = false
	case len(kinds) > 1:
		d.add(node, path, fmt.Sprintf("`%s` mixes %s in one clause", clause(path), strings.Join(kinds, " and ")),
			"put them in a list: {all: [...]} to require each, {any: [...]} to accept either")
		ok = false
	}
	return r, ok
}

// fields converts an `in` list (or a single field name).
func (d *decoder) fields(v ast.Node, mv *ast.MappingValueNode, path string) ([]topic.Field, bool) {
	var items []ast.Node
	switch n := v.(type) {
	case *ast.SequenceNode:
		items = n.Values
	default:
		if isScalar(v) && !isNull(v) {
			items = []ast.Node{v}
		}
	}
	valid := make([]string, len(fields))
	for i, f := range fields {
		valid[i] = string(f)
	}
	if len(items) == 0 {
		d.add(keyOr(v, mv), path, "`in` expects a list of story fields, got "+kindName(v), "write e.g. `in: [title, summary]`; fields: "+strings.Join(valid, ", "))
		return nil, false
	}
	ok := true
	var in []topic.Field
	for i, item := range items {
		name := scalarText(unwrap(item, d.anchors))
		if !slices.Contains(valid, name) {
			hint := "fields: " + strings.Join(valid, ", ")
			if near := closest(name, valid); near != "" {
				hint = "did you mean `" + near + "`? " + hint
			}
			d.add(item, fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("`in` names unknown story field %q", name), hint)
			ok = false
			continue
		}
		in = append(in, topic.Field(name))
	}
	return in, ok
}

// keyOr points at the value, or at the key when the value is missing.
func keyOr(v ast.Node, mv *ast.MappingValueNode) ast.Node {
	if isNull(v) {
		return mv.Key
	}
	return v
}

func number(node ast.Node) (float64, bool) {
	switch node.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		f, err := strconv.ParseFloat(strings.ReplaceAll(scalarText(node), "_", ""), 64)
		return f, err == nil
	}
	return 0, false
}

// clause names a rule clause by its last path step, index included
// ("any[2]"), so the message says which item of a list is wrong.
func clause(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
