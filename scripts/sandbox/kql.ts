// The subset of KQL (Kusto) that Nexus sends to Resource Graph, parsed honestly: anything outside
// the subset is a KqlError naming the part that is not supported, never silently ignored.
//
//   table ( | where EXPR | project [NAME =] EXPR, ... | extend NAME = EXPR, ...
//         | summarize [NAME =] AGG(...), ... [by [NAME =] EXPR, ...]
//         | order|sort by EXPR [asc|desc], ... | limit|take N | count | distinct COL, ... )*
//   EXPR: and/or/not, == != =~ !~ < <= > >=, (!)contains (!)has (!)startswith (!)endswith [_cs],
//         (!)in / in~ (list), column paths (a.b['c'][0]), literals, datetime(), ago(), now(),
//         tolower toupper tostring toint tolong todatetime isempty isnotempty isnull isnotnull strlen iff coalesce
//   AGG: count() countif(EXPR) dcount(EXPR) sum(EXPR) min(EXPR) max(EXPR) make_set(EXPR)
//
// kql-parse.ts parses, kql-eval.ts runs; this module is the entry point both are used through.
export { KqlError, parseKql, type Expr, type Query, type Stage } from './kql-parse.ts';
export { evaluate, run } from './kql-eval.ts';
