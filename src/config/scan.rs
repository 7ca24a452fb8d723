//! A line scan of config.toml that finds where each table starts, without
//! parsing the values: so the warm path (`credential-process NAME`) can
//! parse only the tables one profile needs, however many profiles a sync
//! wrote (with 150, parsing the whole file was over half of a warm call's
//! instructions, and it grows with every profile).
//!
//! The scan follows just enough of TOML to know, at the start of each
//! line, whether it is inside a value: single-line basic strings (with
//! escapes) and literal strings, comments, and the brackets and braces of
//! arrays and inline tables, which may span lines. A line that starts
//! with `[` outside any value can only be a table header (a key cannot
//! start with `[`). What the scan does not follow it refuses, and the
//! caller parses the whole file: a multi-line string (three quotes) in a
//! value), a header it cannot read, a string left open at a line's end.

use std::ops::Range;

/// One table of the file: its header's key path (`None` for the keys
/// before the first header) and the bytes it spans, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table<'a> {
    pub path: Option<Vec<&'a str>>,
    pub span: Range<usize>,
}

/// The file's tables in order, or `None` when the scan cannot be sure.
pub fn tables(text: &str) -> Option<Vec<Table<'_>>> {
    let mut tables = vec![Table {
        path: None,
        span: 0..0,
    }];
    let mut depth: usize = 0;
    let mut offset = 0;
    for line in text.as_bytes().split_inclusive(|&b| b == b'\n') {
        let start = line.iter().position(|b| !matches!(b, b' ' | b'\t'));
        if depth == 0 && start.is_some_and(|i| line[i] == b'[') {
            let at = offset + start.unwrap_or(0);
            let path = header(&text[at..offset + line.len()])?;
            tables.last_mut()?.span.end = offset;
            tables.push(Table {
                path: Some(path),
                span: offset..offset,
            });
        } else {
            depth = scan_line(line, depth)?;
        }
        offset += line.len();
    }
    tables.last_mut()?.span.end = offset;
    Some(tables)
}

/// The bracket depth after `line`, starting at `depth`; `None` for a
/// string still open at the line's end or a closing bracket too many.
/// (Bytes, not chars: every byte that matters here is ASCII, and UTF-8
/// never uses ASCII bytes inside a multi-byte character.)
fn scan_line(bytes: &[u8], mut depth: usize) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => return Some(depth),
            // A multi-line string (three quotes) is not followed: refused.
            b'"' | b'\'' if bytes.get(i + 1..i + 3) == Some(&[bytes[i]; 2]) => return None,
            b'"' => loop {
                i += 1;
                match *bytes.get(i)? {
                    b'\\' => i += 1,
                    b'"' => break,
                    b'\n' => return None,
                    _ => {}
                }
            },
            b'\'' => loop {
                i += 1;
                match *bytes.get(i)? {
                    b'\'' => break,
                    b'\n' => return None,
                    _ => {}
                }
            },
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    Some(depth)
}

/// The key path of a header line (`[a.b]`, `[[a."b.c"]]`, spaces around
/// the dots, a comment after it).
fn header(line: &str) -> Option<Vec<&str>> {
    let array = line.starts_with("[[");
    let mut rest = &line[if array { 2 } else { 1 }..];
    let mut path = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        let (key, after) = key(rest)?;
        path.push(key);
        rest = after.trim_start_matches([' ', '\t']);
        match rest.chars().next()? {
            '.' => rest = &rest[1..],
            ']' => {
                rest = &rest[1..];
                if array {
                    rest = rest.strip_prefix(']')?;
                }
                break;
            }
            _ => return None,
        }
    }
    let tail = rest.trim_start_matches([' ', '\t']);
    (tail.is_empty() || tail.starts_with('#') || tail.starts_with('\n') || tail.starts_with("\r\n"))
        .then_some(path)
}

/// One key of a dotted key: bare, "basic" (without escapes: those send the
/// file to the full parse) or 'literal'; and what follows it.
fn key(s: &str) -> Option<(&str, &str)> {
    let quoted = |q: char| {
        let body = &s[1..];
        let end = body.find(q)?;
        let key = &body[..end];
        (!key.contains(['\\', '\n'])).then(|| (key, &body[end + 1..]))
    };
    match s.chars().next()? {
        '"' => quoted('"'),
        '\'' => quoted('\''),
        _ => {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(s.len());
            (end > 0).then(|| (&s[..end], &s[end..]))
        }
    }
}

/// The text of the tables profile lookups need: the root keys, `[settings]`
/// and what is under it, a bare `[profiles]` (which may define any profile
/// with dotted keys), and every table of the profiles in `names`; in the
/// file's order.
pub fn select(text: &str, tables: &[Table<'_>], names: &[&str]) -> String {
    let wanted = |path: &Option<Vec<&str>>| match path.as_deref() {
        None => true,
        Some(["settings", ..]) | Some(["profiles"]) => true,
        Some(["profiles", name, ..]) => names.contains(name),
        _ => false,
    };
    tables
        .iter()
        .filter(|t| wanted(&t.path))
        .map(|t| &text[t.span.clone()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<Option<String>> {
        tables(text)
            .unwrap()
            .into_iter()
            .map(|t| t.path.map(|p| p.join("/")))
            .collect()
    }

    #[test]
    fn finds_headers_and_not_brackets_inside_values() {
        let text = r#"top = 1
[settings]
store = "file" # [not.a.header]
[profiles.work]
identity = "work"
policy_arns = [
  "arn:aws:iam::aws:policy/[odd]",
  ["nested"],
]
tags = { team = "a]b" }
[ profiles . "my.prod" ]  # comment
identity = 'work'
[[profiles.work.list]]
x = "\"[quoted]\""
"#;
        assert_eq!(
            paths(text),
            [
                None,
                Some("settings".into()),
                Some("profiles/work".into()),
                Some("profiles/my.prod".into()),
                Some("profiles/work/list".into()),
            ]
        );
        let spans: String = tables(text)
            .unwrap()
            .iter()
            .map(|t| &text[t.span.clone()])
            .collect();
        assert_eq!(spans, text, "the spans cover the file, in order");
    }

    #[test]
    fn refuses_what_it_cannot_follow() {
        for text in [
            "a = \"\"\"\n[x]\n\"\"\"\n",
            "a = '''\n[x]\n'''\n",
            "[profiles.work\n",
            "[profiles.\"a\\u0041\"]\n",
            "[a] b = 1\n",
            "a = \"open\n[x]\n",
            "a = ]\n",
            "[]\n",
        ] {
            assert_eq!(tables(text), None, "{text:?}");
        }
    }

    #[test]
    fn selects_the_root_settings_and_the_named_profiles() {
        let text = "a = 1\n[settings]\nx = 1\n[profiles.one]\ni = 1\n[profiles.two]\ni = 2\n[profiles.one.tags]\nk = 'v'\n[profiles]\nthree.i = 3\n[accounts]\n'1' = 'x'\n";
        let t = tables(text).unwrap();
        assert_eq!(
            select(text, &t, &["one"]),
            "a = 1\n[settings]\nx = 1\n[profiles.one]\ni = 1\n[profiles.one.tags]\nk = 'v'\n[profiles]\nthree.i = 3\n"
        );
        assert_eq!(
            select(text, &t, &[]),
            "a = 1\n[settings]\nx = 1\n[profiles]\nthree.i = 3\n"
        );
    }
}
