//! The core's layers, read from its source: the module dependency graph derived from the
//! `crate::...` and `super::...` paths of `src/`, and two rules on it.
//!
//! 1. The protocols (`proto::oauth1`, `proto::oauth2`, `proto::oidc`, `proto::jose`) import
//!    nothing from the client, session, settings, presets, registry or web modules.
//! 2. No import circle between the core's modules: the top-level modules, with each
//!    protocol under `proto` counted as a module of its own.
//! 3. The client's internals are private to the client module: `OAuthClient` and
//!    `ClientInner` have no `pub` or `pub(crate)` field (others ask the client's methods).
//!
//! Test modules (`#[cfg(test)] mod ...`) are left out: a test may build its fixtures from
//! any layer. Comments and string literals are left out too, so a doc link is no import.
//! `cargo test -p ferroauth --test layering -- --nocapture` prints the graph's layer order.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What the protocols must not import.
const ABOVE_THE_PROTOCOLS: &[&str] = &[
    "client", "session", "settings", "presets", "registry", "web",
];

/// Import circles known at the time of writing, each to be removed by the change that
/// breaks it (the test then fails until the entry goes).
const KNOWN_CIRCLES: &[&[&str]] = &[];

type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn the_protocols_import_nothing_above_them() {
    let graph = core_graph();
    let mut wrong = Vec::new();
    for (from, deps) in &graph {
        if !from.starts_with("proto::") {
            continue;
        }
        for (to, site) in deps {
            if ABOVE_THE_PROTOCOLS.contains(&to.as_str()) {
                wrong.push(format!("{from} imports {to} ({site})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the protocols must take what they need as parameters, not import it:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn no_import_circles_between_the_core_modules() {
    let graph = core_graph();
    let mut unknown = Vec::new();
    let mut seen_known = BTreeSet::new();
    for component in strongly_connected(&graph) {
        if component.len() < 2 {
            continue;
        }
        let cycle = format!(
            "{{{}}}, e.g. {}",
            component.join(", "),
            one_cycle(&graph, &component)
        );
        if let Some(known) = KNOWN_CIRCLES.iter().find(|k| sorted(k) == component) {
            eprintln!("known import circle (see KNOWN_CIRCLES): {cycle}");
            seen_known.insert(sorted(known));
        } else {
            unknown.push(cycle);
        }
    }
    assert!(
        unknown.is_empty(),
        "import circles between the core's modules:\n  {}",
        unknown.join("\n  ")
    );
    let gone: Vec<_> = KNOWN_CIRCLES
        .iter()
        .map(|k| sorted(k))
        .filter(|k| !seen_known.contains(k))
        .collect();
    assert!(
        gone.is_empty(),
        "these known circles are gone: remove them from KNOWN_CIRCLES: {gone:?}"
    );
    for (rank, layer) in layers(&graph).iter().enumerate() {
        eprintln!("layer {rank}: {}", layer.join(", "));
    }
}

#[test]
fn the_client_internals_stay_in_the_client_module() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/client/mod.rs");
    let text = strip(&fs::read_to_string(path).expect("src/client/mod.rs"));
    for name in ["pub struct OAuthClient", "struct ClientInner"] {
        let start = text
            .find(&format!("{name} {{"))
            .unwrap_or_else(|| panic!("{name} not found"));
        let body = &text[start..start + text[start..].find("\n}").expect("the struct's end")];
        let open: Vec<&str> = body
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| l.starts_with("pub"))
            .collect();
        assert!(
            open.is_empty(),
            "{name}: fields open outside client/: {open:?}"
        );
    }
}

/// The reader must see the imports it is meant to judge: a graph read wrong would pass
/// both rules by seeing nothing.
#[test]
fn the_graph_holds_the_imports_we_know_of() {
    let graph = core_graph();
    for (from, to) in [
        ("client", "session"),
        ("client", "proto::oauth2"),
        ("web", "client"),
        ("proto::oidc", "proto::jose"),
        ("registry", "client"),
        // Through a root re-export (`crate::Error`) and through `super::` paths.
        ("proto::oauth2", "error"),
    ] {
        assert!(
            graph.get(from).is_some_and(|deps| deps.contains_key(to)),
            "{from} -> {to} not found; the graph read: {graph:#?}"
        );
    }
    assert!(graph.contains_key("proto::oauth1") && graph.contains_key("random"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(test_only_modules(&src).contains(&vec![
        "proto".into(),
        "oauth1".into(),
        "proptests".into()
    ]));
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort_unstable();
    names
}

// ---------------------------------------------------------------------------------------
// Reading the source.

/// Module -> (module it imports -> one place where it does), for the core's modules.
fn core_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = strip(&fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs"));
    let top: BTreeSet<String> = rs_files(&src)
        .iter()
        .filter_map(|f| module_path(&src, f).first().cloned())
        .collect();
    // Root re-exports (`pub use error::Error`): `crate::Error` is an import of `error`.
    let mut reexports = BTreeMap::new();
    for (start, _) in lib.match_indices("use ") {
        let tokens = tokenize(&lib[start + 4..]);
        for (path, alias) in use_tree(&tokens, &mut 0) {
            if let Some(module) = node(&top, &path) {
                reexports.insert(alias, module);
            }
        }
    }
    let test_only = test_only_modules(&src);
    let mut graph = Graph::new();
    for file in rs_files(&src) {
        let module = module_path(&src, &file);
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let Some(from) = node(&top, &module) else {
            continue; // lib.rs: the facade
        };
        let text = strip(&fs::read_to_string(&file).expect("readable source"));
        let deps = graph.entry(from.clone()).or_default();
        for (line, path) in paths(&module, &text) {
            let to = node(&top, &path).or_else(|| reexports.get(path.first()?).cloned());
            if let Some(to) = to
                && to != from
            {
                let rel = file.strip_prefix(&src).unwrap_or(&file).display();
                deps.entry(to)
                    .or_insert_with(|| format!("src/{rel}:{line}: {}", path.join("::")));
            }
        }
    }
    graph
}

/// Modules in files of their own declared `#[cfg(test)] mod name;`.
fn test_only_modules(src: &Path) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for file in rs_files(src) {
        let text = fs::read_to_string(&file).expect("readable source");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            rest = &rest[at + "#[cfg(test)]".len()..];
            let Some(end) = rest.find(['{', ';']) else {
                break;
            };
            if let [(Token::Ident(m), _), (Token::Ident(name), _)] = &tokenize(&rest[..end])[..]
                && m == "mod"
                && rest[end..].starts_with(';')
            {
                let mut module = module_path(src, &file);
                module.push(name.clone());
                found.push(module);
            }
        }
    }
    found
}

/// The graph's node for an absolute module path: a top-level module, or `proto::<protocol>`
/// (`proto` itself is only the protocols' folder).
fn node(top: &BTreeSet<String>, path: &[String]) -> Option<String> {
    let first = path.first()?;
    if !top.contains(first) || path == ["proto"] {
        return None;
    }
    match (first.as_str(), path.get(1)) {
        ("proto", Some(protocol))
            if protocol
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            Some(format!("proto::{protocol}"))
        }
        _ => Some(first.clone()),
    }
}

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable src/") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(rs_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `src/proto/oidc/id_token.rs` -> `[proto, oidc, id_token]`; `mod.rs` names its folder.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("under src/")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source without comments, string and char literals, and `#[cfg(test)]` modules;
/// line breaks kept, so that line numbers still hold.
fn strip(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if (c == 'r' || c == 'b') && raw_string_start(&chars, i).is_some() {
            let (hashes, body) = raw_string_start(&chars, i).expect("checked");
            i = body;
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&close) {
                blank(&mut out, chars[i]);
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&c) = chars.get(i) {
                    blank(&mut out, c);
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    without_test_modules(&out)
}

/// `r"`, `r#"`, `br"`...: the number of `#` and where the body starts.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i + usize::from(chars[i] == 'b');
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some((hashes, j + hashes + 1))
}

fn without_test_modules(src: &str) -> String {
    let mut out = src.to_owned();
    while let Some(at) = out.find("#[cfg(test)]") {
        let after = at + "#[cfg(test)]".len();
        let rest = &out[after..];
        let end = match rest.trim_start().starts_with("mod ") {
            true => match (rest.find('{'), rest.find(';')) {
                (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                    let mut depth = 0;
                    let mut end = rest.len();
                    for (k, c) in rest[open..].char_indices() {
                        depth += match c {
                            '{' => 1,
                            '}' => -1,
                            _ => 0,
                        };
                        if depth == 0 {
                            end = open + k + 1;
                            break;
                        }
                    }
                    after + end
                }
                (_, Some(semi)) => after + semi + 1,
                _ => after,
            },
            false => after,
        };
        let blanked: String = out[at..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..end, &blanked);
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Star,
    Other(char),
}

fn tokenize(src: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push((Token::Colons, line));
            i += 2;
        } else {
            let token = match c {
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                '*' => Token::Star,
                c => Token::Other(c),
            };
            tokens.push((token, line));
            i += 1;
        }
    }
    tokens
}

/// One use tree from `tokens[*at]`: each leaf path with the name it binds.
fn use_tree(tokens: &[(Token, usize)], at: &mut usize) -> Vec<(Vec<String>, String)> {
    let mut prefix = Vec::new();
    loop {
        match tokens.get(*at).map(|t| &t.0) {
            Some(Token::Ident(name)) => {
                prefix.push(name.clone());
                *at += 1;
                if tokens.get(*at).map(|t| &t.0) == Some(&Token::Colons) {
                    *at += 1;
                    continue;
                }
                let mut alias = name.clone();
                if tokens.get(*at).map(|t| &t.0) == Some(&Token::Ident("as".into())) {
                    if let Some((Token::Ident(a), _)) = tokens.get(*at + 1) {
                        alias = a.clone();
                    }
                    *at += 2;
                }
                return vec![(prefix, alias)];
            }
            Some(Token::Open) => {
                *at += 1;
                let mut leaves = Vec::new();
                while *at < tokens.len() && tokens[*at].0 != Token::Close {
                    for (path, alias) in use_tree(tokens, at) {
                        leaves.push(([prefix.clone(), path].concat(), alias));
                    }
                    if tokens.get(*at).map(|t| &t.0) == Some(&Token::Comma) {
                        *at += 1;
                    } else if tokens.get(*at).map(|t| &t.0) != Some(&Token::Close) {
                        *at += 1; // something unexpected: skip it
                    }
                }
                *at += 1;
                return leaves;
            }
            Some(Token::Star) => {
                *at += 1;
                return vec![(prefix, "*".into())];
            }
            _ => return vec![(prefix, String::new())],
        }
    }
}

/// Every `crate::...` and `super::...` path of a file, made absolute, with its line.
fn paths(file_module: &[String], text: &str) -> Vec<(usize, Vec<String>)> {
    let tokens = tokenize(text);
    let mut found = Vec::new();
    // Inline modules (`mod name { ... }`) deepen `super::`: (brace depth, name).
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let (token, line) = &tokens[i];
        match token {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some((Token::Ident(name), _)), Some((Token::Open, _))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((depth, name.clone()));
                }
            }
            Token::Ident(word)
                if (word == "crate" || word == "super")
                    && tokens.get(i + 1).map(|t| &t.0) == Some(&Token::Colons) =>
            {
                let preceded = i > 0 && tokens[i - 1].0 == Token::Colons;
                if !preceded {
                    let mut base: Vec<String> = file_module
                        .iter()
                        .cloned()
                        .chain(inline.iter().map(|(_, n)| n.clone()))
                        .collect();
                    let mut at = i;
                    if word == "crate" {
                        base.clear();
                        at += 2;
                    } else {
                        while tokens.get(at).map(|t| &t.0) == Some(&Token::Ident("super".into()))
                            && tokens.get(at + 1).map(|t| &t.0) == Some(&Token::Colons)
                        {
                            base.pop();
                            at += 2;
                        }
                    }
                    let start = at;
                    for (path, _) in use_tree(&tokens, &mut at) {
                        found.push((*line, [base.clone(), path].concat()));
                    }
                    i = at.max(start);
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

// ---------------------------------------------------------------------------------------
// The graph.

/// Tarjan's strongly connected components, each sorted.
fn strongly_connected(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flat_map(|d| d.keys()) {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[v].min(s.low[w.as_str()]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w.as_str()) {
                let low = s.low[v].min(s.index[w.as_str()]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.components.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.components
}

/// One circle through a component's first module, with the import that makes each step.
fn one_cycle(graph: &Graph, component: &[String]) -> String {
    let start = &component[0];
    let inside: BTreeSet<&String> = component.iter().collect();
    // Breadth-first from `start` back to it, inside the component.
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut last = None;
    'search: while let Some(v) = queue.pop_front() {
        for w in graph[v].keys().filter(|w| inside.contains(w)) {
            if w == start {
                last = Some(v);
                break 'search;
            }
            if !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut steps = vec![start];
    let mut v = last.expect("a component of two or more modules has a circle");
    while v != start {
        steps.push(v);
        v = came_from[v];
    }
    steps.push(start);
    steps.reverse();
    steps
        .windows(2)
        .map(|w| format!("{} -> {} [{}]", w[0], w[1], graph[w[0]][w[1]]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Modules by layer, lowest first: a module sits one layer above the highest it imports
/// (the members of a known circle share a layer).
fn layers(graph: &Graph) -> Vec<Vec<String>> {
    let components = strongly_connected(graph);
    let component_of: BTreeMap<&str, usize> = components
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.iter().map(move |m| (m.as_str(), i)))
        .collect();
    // Tarjan emits a component after every component it reaches: ranks in one pass.
    let mut rank = vec![0usize; components.len()];
    for (i, component) in components.iter().enumerate() {
        for m in component {
            for dep in graph.get(m).into_iter().flat_map(|d| d.keys()) {
                let j = component_of[dep.as_str()];
                if j != i {
                    rank[i] = rank[i].max(rank[j] + 1);
                }
            }
        }
    }
    let mut layers = vec![Vec::new(); rank.iter().max().map_or(0, |r| r + 1)];
    for (i, component) in components.into_iter().enumerate() {
        let name = match component.len() {
            1 => component[0].clone(),
            _ => format!("[{}]", component.join(" <-> ")),
        };
        layers[rank[i]].push(name);
    }
    layers.iter_mut().for_each(|l| l.sort());
    layers
}
