//! The demo is a user of the library, not a second copy of it: its code outside the page
//! templates (`pages.rs`) and the extra programs (`bin/`) stays within a budget. What it
//! would need beyond that belongs in ferroauth-axum, ferroauth-actix or the core.
//!
//! The budget is 300 code lines, both frameworks together.

use std::path::Path;

/// Code lines the demo may have, both frameworks together.
const BUDGET: usize = 300;

/// Lines that are neither blank nor comments (`//`, `///`, `//!`, and `/* */` blocks).
fn code_lines(text: &str) -> usize {
    let mut in_block = false;
    let mut count = 0;
    for line in text.lines().map(str::trim) {
        if in_block {
            in_block = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.contains("*/");
            continue;
        }
        if !line.is_empty() && !line.starts_with("//") {
            count += 1;
        }
    }
    count
}

fn count(dir: &Path, files: &mut Vec<(String, usize)>) {
    for entry in std::fs::read_dir(dir).expect("the demo's sources") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "bin" {
                count(&path, files);
            }
        } else if name.ends_with(".rs") && name != "pages.rs" {
            let text = std::fs::read_to_string(&path).expect("a source file");
            files.push((name.to_owned(), code_lines(&text)));
        }
    }
}

#[test]
fn the_demo_stays_within_its_budget() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    count(&src, &mut files);
    files.sort();
    let total: usize = files.iter().map(|(_, n)| n).sum();
    for (name, lines) in &files {
        println!("{name}: {lines}");
    }
    println!("the demo: {total} code lines outside pages.rs and bin/ (budget {BUDGET})");
    assert!(
        total <= BUDGET,
        "the demo has {total} code lines outside pages.rs and bin/; at most {BUDGET}: move \
         what an app would need too into the library"
    );
}

#[test]
fn comments_and_blank_lines_do_not_count() {
    let text = "//! docs\n\n/// item\nfn a() {\n    // why\n    /* block\n still */\n}\n";
    assert_eq!(code_lines(text), 2);
}
