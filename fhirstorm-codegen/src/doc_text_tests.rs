use pulldown_cmark::{Event, Options, Parser, Tag};

use super::*;

/// The lines, none broken.
fn lines(text: &str) -> Vec<String> {
    lines_within(text, usize::MAX)
}

/// What rustdoc would make of a doc comment of these lines that is not text: code blocks (run as
/// doctests), HTML, links, each described.
fn markup(lines: &[String]) -> Vec<String> {
    let text = lines.iter().map(|l| format!(" {l}")).collect::<Vec<_>>().join("\n");
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_DEFINITION_LIST;
    Parser::new_ext(&text, options)
        .filter_map(|e| match e {
            Event::Start(Tag::CodeBlock(kind)) => Some(format!("code block {kind:?}")),
            Event::Html(h) | Event::InlineHtml(h) => Some(format!("HTML {h:?}")),
            Event::Start(Tag::Link { dest_url, .. }) => Some(format!("link to {dest_url}")),
            Event::Start(Tag::Image { dest_url, .. }) => Some(format!("image {dest_url}")),
            Event::Start(Tag::List(_)) => Some("list".into()),
            Event::Start(Tag::BlockQuote(_)) => Some("quote".into()),
            Event::Start(Tag::DefinitionList) => Some("definition list".into()),
            _ => None,
        })
        .collect()
}

/// Checks `text` as prose inside a generated doc, and as a value in a code span.
fn safe(text: &str) {
    for doc in [format!("{}\n\nExtension {}", prose(text), code(text)), text.to_string()] {
        let out = lines(&doc);
        let found = markup(&out);
        assert!(found.is_empty(), "{text:?} gives {found:?} in {out:#?}");
        for l in &out {
            assert!(!l.starts_with([' ', '\t']) && !l.chars().any(|c| c.is_control()), "{l:?}");
        }
    }
}

#[test]
fn fences_do_not_open_code_blocks() {
    safe("Fine.\n```rust\nfn main() { std::process::exit(1) }\n```");
    safe("```\nx\n```");
    safe("~~~\nx\n~~~");
    safe("a\n\n``` rust,no_run\nx");
    safe("- ```\n  x\n  ```");
    safe("> ```\n> x");
    safe("1. ```\n   x");
    safe("term\n: ```rust\n  x\n  ```");
}

#[test]
fn indentation_does_not_make_code() {
    safe("para\n\n    fn main() {}\n\n\tlet x = 1;");
    safe("\n\n        deep\n");
    safe("a\n\n\t\tx");
}

#[test]
fn comment_enders_stay_text() {
    for t in ["*/ fn evil() {} /*", "x\n//! inner doc\n#![no_std]", "end */\n#![doc = \"x\"]", "\"]\n#[doc = \""] {
        safe(t);
        for l in lines(t) {
            assert!(!l.contains('\n') && !l.contains('\r'), "{l:?}");
        }
    }
}

#[test]
fn html_and_links_stay_text() {
    safe("</code><script>alert(1)</script>");
    safe("<script>\nalert(1)\n</script>");
    safe("x\n<div>\nblock\n</div>");
    safe("[x](javascript:alert(1)) and ![i](javascript:x)");
    safe("<javascript:alert(1)> <http://example.org>");
    safe("[a]: javascript:alert(1)\n\n[a]");
    safe("`x` <b> `y`");
    safe("a `b\n<script>` c");
}

#[test]
fn escapes_from_code_spans_stay_text() {
    // A value that tries to close the code span it is written in.
    for t in ["a` <script>alert(1)</script> `b", "```", "`", "x``y`z", "https://x/`<img src=x>`"] {
        safe(t);
    }
    assert_eq!(code("a`b"), "`` a`b ``");
    assert_eq!(code("http://x"), "`http://x`");
}

#[test]
fn line_breaks_of_every_kind_end_lines() {
    for sep in ["\r", "\r\n", "\u{2028}", "\u{2029}", "\u{85}", "\u{0B}", "\u{0C}"] {
        let t = format!("text{sep}```rust{sep}evil(){sep}```");
        safe(&t);
        assert_eq!(lines(&t).len(), 4, "{sep:?}");
        assert!(!one_line(&t).contains(['\n', '\r']));
    }
}

#[test]
fn control_and_bidi_characters_are_dropped() {
    let out = lines("a\0b\u{1b}[31mc\u{202E}d\u{2066}e\u{7f}");
    assert_eq!(out, ["ab[31mcde"]);
    assert_eq!(one_line("v1\n\0.2\r"), "v1 .2 ");
}

#[test]
fn prose_reads_as_written() {
    assert_eq!(lines(&prose("A *b* <i>")), ["A \\*b\\* \\<i\\>"]);
    assert_eq!(prose("see http://hl7.org/x or"), "see `http://hl7.org/x` or");
    assert_eq!(lines("First.\n\n`Patient.name` · 0..*"), ["First.", "", "`Patient.name` · 0..*"]);
    assert_eq!(lines("One\n"), ["One"]);
}

#[test]
fn the_generators_markup_is_kept() {
    // Code spans and intra-doc links are the generators' own; they pass unchanged.
    let t = "The choice element `value[x]`: the same types as [`ExtensionValue`], `Vec<T>`.";
    assert_eq!(lines(t), [t]);
}

#[test]
fn random_markdown_stays_text() {
    // Text as a generator writes it around package values (not escaped first): only `lines`
    // stands between it and rustdoc.
    const PIECES: &[&str] = &[
        "`",
        "``",
        "```",
        "~~~",
        "<",
        ">",
        "[",
        "]",
        "(",
        ")",
        "\n",
        "\n\n",
        "    ",
        "\t",
        "-",
        "*",
        "+",
        "1.",
        "2)",
        "a",
        " ",
        "\\",
        "!",
        ":",
        "http://x",
        "<script>",
        "</div>",
        "](",
        "&lt;",
        "&#96;",
        "|",
        "#",
        "=",
        "_",
        "\r",
        "\u{2028}",
        "<!--",
        "<?",
        "<![CDATA[",
        "[a]:",
        "javascript:",
        "<http://x>",
        "-->",
        "\"",
        "'",
        "{",
        "}",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..20_000 {
        let text: String = (0..1 + next(24)).map(|_| PIECES[next(PIECES.len())]).collect();
        for width in [usize::MAX, 8] {
            let out = lines_within(&text, width);
            let found = markup(&out);
            assert!(found.is_empty(), "{text:?} gives {found:?} in {out:#?}");
        }
    }
}

#[test]
fn long_lines_wrap_at_spaces_and_render_the_same() {
    let text = "A long description with `a code span` and 1. a number, - a dash, <b> and [x](y) that wraps.";
    let wide = lines(text);
    let narrow = lines_within(text, 20);
    // (escaping, `&lt;` and `\(`, may add a few characters to a line)
    assert!(narrow.len() > 3 && narrow.iter().all(|l| l.chars().count() <= 24), "{narrow:#?}");
    assert_eq!(wide.join(" "), narrow.join(" "), "the same text, only broken at spaces");
    assert!(markup(&narrow).is_empty(), "{narrow:#?}");
}
