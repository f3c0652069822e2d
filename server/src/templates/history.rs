//! Two revisions of a template side by side (README "Revisions and rollback"), pure: the
//! changed lines with a few unchanged ones around them, the rest folded.

use std::time::Duration;

use app::history::{Change, DiffRow, RevisionDiff, DIFF_CONTEXT_LINES};
use similar::{DiffOp, TextDiff};

/// How long the line matching may search before it settles for a coarser difference: a
/// template is at most 1 MiB, and the page waits for this.
const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// The difference from `old` (revision `from`) to `new` (revision `to`), line by line.
pub fn side_by_side(from: i32, old: &str, to: i32, new: &str) -> RevisionDiff {
    let diff = TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let line = |lines: &[&str], index: usize| {
        Some((
            index + 1,
            lines.get(index).copied().unwrap_or("").to_owned(),
        ))
    };
    let mut rows = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for (n, group) in diff.grouped_ops(DIFF_CONTEXT_LINES).iter().enumerate() {
        if n > 0 || group.first().is_some_and(|op| op.old_range().start > 0) {
            rows.push(DiffRow {
                change: Change::Folded,
                left: None,
                right: None,
            });
        }
        for op in group {
            match *op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => rows.extend((0..len).map(|i| DiffRow {
                    change: Change::Same,
                    left: line(&old_lines, old_index + i),
                    right: line(&new_lines, new_index + i),
                })),
                DiffOp::Delete {
                    old_index, old_len, ..
                } => {
                    removed += old_len;
                    rows.extend((0..old_len).map(|i| DiffRow {
                        change: Change::Removed,
                        left: line(&old_lines, old_index + i),
                        right: None,
                    }));
                }
                DiffOp::Insert {
                    new_index, new_len, ..
                } => {
                    added += new_len;
                    rows.extend((0..new_len).map(|i| DiffRow {
                        change: Change::Added,
                        left: None,
                        right: line(&new_lines, new_index + i),
                    }));
                }
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    removed += old_len;
                    added += new_len;
                    rows.extend((0..old_len.max(new_len)).map(|i| {
                        DiffRow {
                            change: Change::Changed,
                            left: (i < old_len)
                                .then(|| line(&old_lines, old_index + i))
                                .flatten(),
                            right: (i < new_len)
                                .then(|| line(&new_lines, new_index + i))
                                .flatten(),
                        }
                    }));
                }
            }
        }
    }
    let last_shown = rows.iter().rev().find_map(|r| r.left.as_ref().map(|l| l.0));
    if last_shown.is_some_and(|n| n < old_lines.len()) {
        rows.push(DiffRow {
            change: Change::Folded,
            left: None,
            right: None,
        });
    }
    RevisionDiff {
        from,
        to,
        rows,
        added,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn a_changed_line_shows_beside_its_old_self_with_context_and_folds() {
        let old = numbered(20);
        let new = old.replace("line 10\n", "line ten\n");
        let diff = side_by_side(1, &old, 2, &new);
        assert_eq!((diff.added, diff.removed), (1, 1));
        let changed: Vec<_> = diff
            .rows
            .iter()
            .filter(|r| r.change == Change::Changed)
            .collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].left, Some((10, "line 10".into())));
        assert_eq!(changed[0].right, Some((10, "line ten".into())));
        // 3 lines each side, folded before and after.
        assert_eq!(diff.rows.first().unwrap().change, Change::Folded);
        assert_eq!(diff.rows.last().unwrap().change, Change::Folded);
        assert_eq!(diff.rows.len(), 1 + 3 + 1 + 3 + 1);
    }

    #[test]
    fn added_and_removed_lines_have_nothing_on_the_other_side() {
        let diff = side_by_side(1, "a\nb\n", 2, "a\nc\nb\nd\n");
        assert_eq!((diff.added, diff.removed), (2, 0));
        let added: Vec<_> = diff
            .rows
            .iter()
            .filter(|r| r.change == Change::Added)
            .map(|r| (r.left.clone(), r.right.clone()))
            .collect();
        assert_eq!(
            added,
            vec![(None, Some((2, "c".into()))), (None, Some((4, "d".into())))]
        );
    }

    #[test]
    fn identical_revisions_have_no_rows() {
        let diff = side_by_side(3, "a\n", 4, "a\n");
        assert!(diff.rows.is_empty());
        assert_eq!((diff.added, diff.removed), (0, 0));
    }
}
