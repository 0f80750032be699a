//! Markdown tables, so `tools/bench/run`'s output pastes straight into BENCHMARKS.md.

/// A table with a header row; the first `text_columns` columns are left-aligned, the
/// numbers after them right-aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    text_columns: usize,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|cell| (*cell).to_owned()).collect(),
            rows: Vec::new(),
            text_columns: 1,
        }
    }

    /// Left-aligns the first `count` columns.
    pub fn text_columns(mut self, count: usize) -> Self {
        self.text_columns = count;
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let columns = self.header.len();
        let width = |column: usize| {
            self.rows
                .iter()
                .filter_map(|row| row.get(column))
                .chain(std::iter::once(&self.header[column]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(column, cell)| {
                    if column < self.text_columns {
                        format!("{cell:<w$}", w = widths[column])
                    } else {
                        format!("{cell:>w$}", w = widths[column])
                    }
                })
                .collect();
            println!("| {} |", padded.join(" | "));
        };
        line(&self.header);
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(column, width)| {
                if column < self.text_columns {
                    "-".repeat(*width)
                } else {
                    format!("{}:", "-".repeat(width.saturating_sub(1)))
                }
            })
            .collect();
        println!("| {} |", rule.join(" | "));
        for row in &self.rows {
            line(row);
        }
    }
}

/// Milliseconds with one decimal.
pub fn ms(duration: std::time::Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}
