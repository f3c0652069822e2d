use sea_orm::entity::prelude::*;

/// A saved test case of an integration: a console input and what must hold.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "test_cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub template_id: i32,
    pub name: String,
    pub scenario: String,
    /// JSON: `app::console::ConsoleInput`.
    #[sea_orm(column_type = "Text")]
    pub input: String,
    /// JSON: `Vec<app::test_cases::Expectation>`.
    #[sea_orm(column_type = "Text")]
    pub expect: String,
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub last_run_at: Option<i64>,
    pub last_passed: Option<bool>,
    /// JSON: the last run's `app::test_cases::CaseResult`.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_report: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
