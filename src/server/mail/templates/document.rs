//! An email described once as blocks, rendered as plain text and as inline-styled HTML.
//! Every string from a block is escaped in HTML; nothing in a subject can break a line.

/// A run of text in a paragraph.
#[derive(Clone)]
pub enum Span {
    Text(String),
    Strong(String),
}

#[derive(Clone)]
pub enum Block {
    Paragraph(Vec<Span>),
    /// A section heading; the block after it follows on the next line in plain text.
    Heading(&'static str),
    /// Label and value pairs.
    Details(Vec<(&'static str, String)>),
    List(Vec<&'static str>),
    /// A link shown as a button in HTML and as the bare address in text.
    Button {
        label: &'static str,
        url: String,
    },
}

/// A paragraph of plain text.
pub fn para(text: impl Into<String>) -> Block {
    Block::Paragraph(vec![Span::Text(text.into())])
}

/// A paragraph: plain `before`, `strong` in bold, plain `after`.
pub fn para_strong(before: &str, strong: &str, after: &str) -> Block {
    Block::Paragraph(vec![
        Span::Text(before.into()),
        Span::Strong(strong.into()),
        Span::Text(after.into()),
    ])
}

pub struct Document {
    pub subject: String,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn new(subject: String, blocks: Vec<Block>) -> Self {
        Self {
            subject: one_line(&subject),
            blocks,
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                let after_heading = matches!(self.blocks[i - 1], Block::Heading(_));
                out.push_str(if after_heading { "\n" } else { "\n\n" });
            }
            match block {
                Block::Paragraph(spans) => {
                    for span in spans {
                        match span {
                            Span::Text(t) | Span::Strong(t) => out.push_str(&one_line(t)),
                        }
                    }
                }
                Block::Heading(h) => out.push_str(h),
                Block::Details(rows) => {
                    let lines: Vec<String> = rows
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", one_line(v)))
                        .collect();
                    out.push_str(&lines.join("\n"));
                }
                Block::List(items) => {
                    let lines: Vec<String> = items.iter().map(|i| format!("• {i}")).collect();
                    out.push_str(&lines.join("\n"));
                }
                Block::Button { url, .. } => out.push_str(url),
            }
        }
        out.push('\n');
        out
    }

    pub fn html(&self) -> String {
        let body: String = self.blocks.iter().map(block_html).collect();
        format!(
            r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:8px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;">
<tr><td style="padding:28px 32px;">{body}</td></tr>
<tr><td style="padding:16px 32px;border-top:1px solid #e4e7eb;font-size:12px;color:#7b8794;">Specialistly</td></tr>
</table></td></tr></table></body></html>"#,
            title = escape_html(&self.subject)
        )
    }
}

fn block_html(block: &Block) -> String {
    match block {
        Block::Paragraph(spans) => {
            let inner: String = spans
                .iter()
                .map(|s| match s {
                    Span::Text(t) => escape_html(t),
                    Span::Strong(t) => format!("<strong>{}</strong>", escape_html(t)),
                })
                .collect();
            format!(r#"<p style="margin:0 0 12px;">{inner}</p>"#)
        }
        Block::Heading(h) => format!(
            r#"<h2 style="font-size:16px;margin:24px 0 8px;color:#323f4b;">{}</h2>"#,
            escape_html(h)
        ),
        Block::Details(rows) => {
            let trs: String = rows
                .iter()
                .map(|(k, v)| {
                    format!(
                        r#"<tr><td style="padding:2px 16px 2px 0;color:#616e7c;">{}</td><td style="padding:2px 0;font-weight:bold;">{}</td></tr>"#,
                        escape_html(k),
                        escape_html(v)
                    )
                })
                .collect();
            format!(
                r#"<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 12px;">{trs}</table>"#
            )
        }
        Block::List(items) => {
            let lis: String = items
                .iter()
                .map(|i| format!(r#"<li style="margin:0 0 4px;">{}</li>"#, escape_html(i)))
                .collect();
            format!(r#"<ul style="margin:0 0 12px;padding-left:20px;">{lis}</ul>"#)
        }
        Block::Button { label, url } => format!(
            r#"<p style="margin:16px 0;"><a href="{url}" style="display:inline-block;background:#2d6cdf;color:#ffffff;text-decoration:none;font-weight:bold;padding:12px 24px;border-radius:6px;">{label}</a></p>"#,
            url = escape_html(url),
            label = escape_html(label)
        ),
    }
}

pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// User-typed names go into subjects and text lines: no line breaks, whatever they contain.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        Document::new(
            "Hi <b>\r\nBcc: x".into(),
            vec![
                para_strong("Hello ", "<script>", "!"),
                Block::Heading("DETAILS"),
                Block::Details(vec![("Date", "Mon".into()), ("Time", "10:00".into())]),
                Block::List(vec!["one", "two"]),
                Block::Button {
                    label: "Join",
                    url: "https://x.test/?a=1&b=\"2\"".into(),
                },
            ],
        )
    }

    #[test]
    fn text_puts_a_heading_right_above_its_block() {
        assert_eq!(
            sample().text(),
            "Hello <script>!\n\nDETAILS\nDate: Mon\nTime: 10:00\n\n• one\n• two\n\nhttps://x.test/?a=1&b=\"2\"\n"
        );
    }

    #[test]
    fn html_escapes_every_string_and_subjects_stay_on_one_line() {
        let d = sample();
        let html = d.html();
        assert!(html.contains("<strong>&lt;script&gt;</strong>"));
        assert!(html.contains(r#"href="https://x.test/?a=1&amp;b=&quot;2&quot;""#));
        assert!(!html.contains("<script>"));
        assert!(!d.subject.contains('\n') && !d.subject.contains('\r'));
    }
}
