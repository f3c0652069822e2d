//! An integration's saved test cases (`test_cases`, README "Test cases"), kept by its
//! template, at most `MAX_TEST_CASES` each.

use app::test_cases::{CaseResult, NewTestCase, TestCase, MAX_TEST_CASES};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::entities::test_case::{self, Entity as TestCases};
use super::unix_now;

#[derive(Debug, thiserror::Error)]
pub enum TestCaseStoreError {
    #[error("an integration keeps at most {MAX_TEST_CASES} test cases; delete one first")]
    LimitReached,
    #[error("test case {0} is not stored")]
    NotFound(i32),
    #[error("test case {id} cannot be read: {reason}")]
    Corrupt { id: i32, reason: String },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

#[derive(Clone)]
pub struct TestCaseRepository {
    db: DatabaseConnection,
}

fn from_model(model: test_case::Model) -> Result<TestCase, TestCaseStoreError> {
    let corrupt = |e: serde_json::Error| TestCaseStoreError::Corrupt {
        id: model.id,
        reason: e.to_string(),
    };
    Ok(TestCase {
        id: model.id,
        name: model.name.clone(),
        input: serde_json::from_str(&model.input).map_err(corrupt)?,
        expect: serde_json::from_str(&model.expect).map_err(corrupt)?,
        created_by: model.created_by.clone(),
        created_at: model.created_at,
        // A result that no longer reads (an older format) is as good as none.
        last: model
            .last_report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
    })
}

fn json(value: &impl serde::Serialize) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(|e| DbErr::Custom(e.to_string()))
}

impl TestCaseRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The template's cases, oldest first.
    pub async fn list(&self, template_id: i32) -> Result<Vec<TestCase>, TestCaseStoreError> {
        TestCases::find()
            .filter(test_case::Column::TemplateId.eq(template_id))
            .order_by_asc(test_case::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_model)
            .collect()
    }

    /// Stores a new case; refused past [`MAX_TEST_CASES`]. Concurrent saves may pass the
    /// count together by one or two: the cap bounds storage, it is not a quota.
    pub async fn create(
        &self,
        template_id: i32,
        case: &NewTestCase,
        author: &str,
    ) -> Result<TestCase, TestCaseStoreError> {
        let transaction = self.db.begin().await?;
        let count = TestCases::find()
            .filter(test_case::Column::TemplateId.eq(template_id))
            .count(&transaction)
            .await?;
        if count as usize >= MAX_TEST_CASES {
            return Err(TestCaseStoreError::LimitReached);
        }
        let now = unix_now();
        let model = test_case::ActiveModel {
            template_id: Set(template_id),
            name: Set(case.name.trim().to_owned()),
            scenario: Set(case.input.scenario.clone()),
            input: Set(json(&case.input)?),
            expect: Set(json(&case.expect)?),
            created_by: Set(author.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&transaction)
        .await?;
        transaction.commit().await?;
        from_model(model)
    }

    /// Replaces a case's name, input and expectations; its last result goes.
    pub async fn update(
        &self,
        template_id: i32,
        id: i32,
        case: &NewTestCase,
    ) -> Result<TestCase, TestCaseStoreError> {
        let result = TestCases::update_many()
            .col_expr(test_case::Column::Name, Expr::value(case.name.trim()))
            .col_expr(
                test_case::Column::Scenario,
                Expr::value(&case.input.scenario),
            )
            .col_expr(test_case::Column::Input, Expr::value(json(&case.input)?))
            .col_expr(test_case::Column::Expect, Expr::value(json(&case.expect)?))
            .col_expr(test_case::Column::UpdatedAt, Expr::value(unix_now()))
            .col_expr(
                test_case::Column::LastRunAt,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                test_case::Column::LastPassed,
                Expr::value(Option::<bool>::None),
            )
            .col_expr(
                test_case::Column::LastReport,
                Expr::value(Option::<String>::None),
            )
            .filter(test_case::Column::TemplateId.eq(template_id))
            .filter(test_case::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(TestCaseStoreError::NotFound(id));
        }
        let model = TestCases::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(TestCaseStoreError::NotFound(id))?;
        from_model(model)
    }

    pub async fn delete(&self, template_id: i32, id: i32) -> Result<(), TestCaseStoreError> {
        let result = TestCases::delete_many()
            .filter(test_case::Column::TemplateId.eq(template_id))
            .filter(test_case::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(TestCaseStoreError::NotFound(id));
        }
        Ok(())
    }

    /// Keeps a run's result with its case.
    pub async fn record_result(&self, result: &CaseResult) -> Result<(), DbErr> {
        TestCases::update_many()
            .col_expr(test_case::Column::LastRunAt, Expr::value(result.at))
            .col_expr(test_case::Column::LastPassed, Expr::value(result.passed))
            .col_expr(test_case::Column::LastReport, Expr::value(json(result)?))
            .filter(test_case::Column::Id.eq(result.case_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
