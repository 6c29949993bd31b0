//! Generated lines kept within the project's width, broken where rustfmt would break them.

/// The project's line width, which generated code keeps to where it can (a long string or path
/// stays whole).
pub(super) const WIDTH: usize = 120;

/// A line too wide, broken as rustfmt breaks it where the shape is simple: a declaration after
/// its `=`; an `impl` before its `for`; else the first bracketed list of two or more items (not a macro's, whose grammar may
/// not take a trailing comma), an item a line. Each part with how much deeper it goes; `None`
/// when the line has neither shape (a long string stays whole).
pub(super) fn broken(line: &str) -> Option<Vec<(usize, String)>> {
    let declaration = ["pub const ", "const ", "pub static ", "static ", "let "].iter().any(|d| line.starts_with(d));
    if declaration && line.ends_with(';') {
        if let Some(eq) = top_level(line).find(|&(_, c)| c == '=').map(|(i, _)| i) {
            if line[..eq].ends_with(' ') && line[eq + 1..].starts_with(' ') {
                return Some(vec![(0, format!("{} =", line[..eq].trim_end())), (1, line[eq + 1..].trim().to_string())]);
            }
        }
    }
    if line.starts_with("impl") && line.ends_with(" {") {
        if let Some(at) = line.find(" for ") {
            let for_ = line[at + 1..line.len() - 2].to_string();
            return Some(vec![(0, line[..at].to_string()), (1, for_), (0, "{".to_string())]);
        }
    }
    let bytes = line.as_bytes();
    for open in line.char_indices().filter(|&(_, c)| c == '(' || c == '[').map(|(i, _)| i) {
        if in_string(line, open) {
            continue;
        }
        let macro_call = line[..open].ends_with('!') && !line[..open].ends_with("__serde_via_json!");
        let Some(close) = matching(line, open) else { continue };
        let items = split_items(&line[open + 1..close]);
        if macro_call || items.len() < 2 || bytes.get(open.wrapping_sub(1)) == Some(&b'#') {
            continue;
        }
        let comma = if line.starts_with("#[") { "" } else { "," };
        let mut parts = vec![(0, line[..=open].to_string())];
        let last = items.len() - 1;
        parts.extend(items.iter().enumerate().map(|(i, item)| {
            let sep = if i < last { "," } else { comma };
            (1, format!("{item}{sep}"))
        }));
        parts.push((0, line[close..].to_string()));
        return Some(parts);
    }
    None
}

/// The characters of `line` outside string literals and brackets, with their offsets.
fn top_level(line: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut depth = 0i32;
    line.char_indices().filter(move |&(i, c)| {
        if in_string(line, i) {
            return false;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => return depth == 0,
        }
        false
    })
}

/// Whether the byte at `at` is inside a string literal (`"…"`, with its escapes).
fn in_string(line: &str, at: usize) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for &b in &line.as_bytes()[..at] {
        match b {
            _ if escaped => escaped = false,
            b'\\' if inside => escaped = true,
            b'"' => inside = !inside,
            _ => {}
        }
    }
    inside
}

/// The offset of the bracket that closes the one at `open`.
fn matching(line: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in line[open..].char_indices() {
        if in_string(line, open + i) {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The comma-separated items of a bracketed list (brackets, generics and strings kept whole),
/// trimmed, without an empty last item.
fn split_items(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut angle, mut start) = (0i32, 0i32, 0);
    let bytes = list.as_bytes();
    for (i, c) in list.char_indices() {
        if in_string(list, i) {
            continue;
        }
        let before = if i > 0 { bytes[i - 1] } else { b' ' };
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '<' if before.is_ascii_alphanumeric() || before == b':' => angle += 1,
            '>' if angle > 0 && before != b'-' && before != b'=' => angle -= 1,
            ',' if depth == 0 && angle == 0 => {
                items.push(list[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = list[start..].trim();
    if !last.is_empty() {
        items.push(last.to_string());
    }
    items
}

#[cfg(test)]
mod tests {
    use super::broken;

    fn parts(line: &str) -> Vec<String> {
        broken(line).unwrap_or_default().into_iter().map(|(d, p)| format!("{}{p}", "    ".repeat(d))).collect()
    }

    #[test]
    fn declarations_break_after_the_equals_sign() {
        assert_eq!(
            parts("pub const ELEMENT_X: crate::search::Element<Account> = hooks::element(\"x, y\");"),
            ["pub const ELEMENT_X: crate::search::Element<Account> =", "    hooks::element(\"x, y\");"]
        );
    }

    #[test]
    fn lists_break_an_item_a_line_strings_and_generics_whole() {
        assert_eq!(
            parts("pub fn m(self, value: (A<B, C>, \"a, (b\")) -> Self {"),
            ["pub fn m(", "    self,", "    value: (A<B, C>, \"a, (b\"),", ") -> Self {"]
        );
        assert_eq!(
            parts("#[diagnostic::on_unimplemented(message = \"a, b\", label = \"c\")]"),
            ["#[diagnostic::on_unimplemented(", "    message = \"a, b\",", "    label = \"c\"", ")]"],
            "no trailing comma in an attribute"
        );
    }

    #[test]
    fn impls_break_before_for() {
        assert_eq!(
            parts("impl<T: ATarget> crate::search::RevIncludable<T> for ARevInclude {"),
            ["impl<T: ATarget> crate::search::RevIncludable<T>", "    for ARevInclude", "{"]
        );
    }

    #[test]
    fn macros_and_single_items_stay_whole() {
        assert!(broken("crate::__choice!(p, *slot, Self::X, hooks::read),").is_none());
        assert!(broken("Some(\"one long string, with commas\")").is_none());
        assert_eq!(parts("crate::__serde_via_json!(A, B);"), ["crate::__serde_via_json!(", "    A,", "    B,", ");"]);
    }
}
