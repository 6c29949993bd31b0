//! Generated lines kept within the project's width, broken where rustfmt would break them.

/// The project's line width, which generated code keeps to where it can (a long string or path
/// stays whole).
pub(super) const WIDTH: usize = 120;

/// A line too wide, broken as rustfmt breaks it where the shape is simple: a declaration after
/// its `=`; an `impl` before its `for`; else the first bracketed list of two or more items (not
/// a macro's, whose grammar may not take a trailing comma), an item a line. Each part with how
/// much deeper it goes; `None` when the line has none of these shapes (a long string stays
/// whole). Linear in the line's length: a line may hold a package's text.
pub(super) fn broken(line: &str) -> Option<Vec<(usize, String)>> {
    let shape = Shape::of(line);
    let declaration = ["pub const ", "const ", "pub static ", "static ", "let "].iter().any(|d| line.starts_with(d));
    if declaration && line.ends_with(';') {
        if let Some(eq) = (0..line.len()).find(|&i| shape.depth[i] == 0 && shape.code[i] && line.as_bytes()[i] == b'=')
        {
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
    for &(open, close) in &shape.groups {
        let macro_call = line[..open].ends_with('!') && !line[..open].ends_with("__serde_via_json!");
        if macro_call || (open > 0 && bytes[open - 1] == b'#') || bytes[open] == b'{' {
            continue;
        }
        let items = shape.items(line, open, close);
        if items.len() < 2 {
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

/// A line's structure, read in one pass: which bytes are code (outside string literals), the
/// bracket depth before each byte, and the bracketed groups in the order they open.
struct Shape {
    code: Vec<bool>,
    depth: Vec<u32>,
    /// `(open, close)` byte offsets of each `(…)`, `[…]` and `{…}`, by opening position.
    groups: Vec<(usize, usize)>,
}

impl Shape {
    fn of(line: &str) -> Shape {
        let bytes = line.as_bytes();
        let (mut code, mut depth) = (Vec::with_capacity(bytes.len()), Vec::with_capacity(bytes.len()));
        let (mut inside, mut escaped) = (false, false);
        let mut open: Vec<usize> = Vec::new();
        let mut groups = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            let was_code = !inside;
            match b {
                _ if escaped => escaped = false,
                b'\\' if inside => escaped = true,
                b'"' => inside = !inside,
                _ => {}
            }
            // A quote is not code; what follows a closing one is.
            let is_code = was_code && !inside && b != b'"';
            code.push(is_code);
            depth.push(open.len() as u32);
            if is_code {
                match b {
                    b'(' | b'[' | b'{' => open.push(i),
                    b')' | b']' | b'}' => {
                        if let Some(start) = open.pop() {
                            groups.push((start, i));
                        }
                    }
                    _ => {}
                }
            }
        }
        groups.sort_unstable();
        Shape { code, depth, groups }
    }

    /// The comma-separated items of the group `open`..`close` (nested brackets, generics and
    /// strings kept whole), trimmed, without an empty last item.
    fn items<'a>(&self, line: &'a str, open: usize, close: usize) -> Vec<&'a str> {
        let bytes = line.as_bytes();
        let inner = self.depth[open] + 1;
        let (mut angle, mut start) = (0i32, open + 1);
        let mut items = Vec::new();
        for i in open + 1..close {
            if !self.code[i] || self.depth[i] != inner {
                continue;
            }
            let before = bytes[i - 1];
            match bytes[i] {
                b'<' if before.is_ascii_alphanumeric() || before == b':' => angle += 1,
                b'>' if angle > 0 && before != b'-' && before != b'=' => angle -= 1,
                b',' if angle == 0 => {
                    items.push(line[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        let last = line[start..close].trim();
        if !last.is_empty() {
            items.push(last);
        }
        items
    }
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
    fn a_long_line_is_broken_in_linear_time() {
        // A package's text in a string literal, and brackets nested deep: no quadratic walk.
        let text =
            format!("pub fn f(a: A, b: &str) -> X {{ g({}\"{}\") }}", "(".repeat(50_000), "x, (".repeat(200_000));
        let started = std::time::Instant::now();
        assert!(broken(&text).is_some());
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn macros_and_single_items_stay_whole() {
        assert!(broken("crate::__choice!(p, *slot, Self::X, hooks::read),").is_none());
        assert!(broken("Some(\"one long string, with commas\")").is_none());
        assert_eq!(parts("crate::__serde_via_json!(A, B);"), ["crate::__serde_via_json!(", "    A,", "    B,", ");"]);
    }
}
