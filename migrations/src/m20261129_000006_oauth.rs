use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// OAuth 2.0 (docs/oauth2.md):
/// - `oauth_states`: authorizations under way, each bound to the session that started it,
///   used once, kept at most 10 minutes. The pending settings and the PKCE verifier are
///   stored encrypted and only become the integration's on a successful callback.
/// - on `integrations`, the token's bookkeeping: when it was last issued, a generation that
///   every new token moves on (so a waiting request sees another's refresh), and the
///   refresh lease that lets one server instance at a time refresh it.
#[derive(DeriveIden)]
enum OauthStates {
    Table,
    StateHash,
    TemplateId,
    SessionHash,
    Actor,
    Pending,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    TokenRefreshedAt,
    TokenGeneration,
    RefreshLeaseOwner,
    RefreshLeaseUntil,
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .col(string(OauthStates::StateHash).primary_key())
                    .col(integer(OauthStates::TemplateId))
                    .col(string(OauthStates::SessionHash))
                    .col(string(OauthStates::Actor))
                    .col(text(OauthStates::Pending))
                    .col(big_integer(OauthStates::ExpiresAt))
                    .col(big_integer(OauthStates::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OauthStates::Table, OauthStates::TemplateId)
                            .to(Templates::Table, Templates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        for column in [
            big_integer_null(Integrations::TokenRefreshedAt),
            integer(Integrations::TokenGeneration).default(0).to_owned(),
            string_null(Integrations::RefreshLeaseOwner),
            big_integer_null(Integrations::RefreshLeaseUntil),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Integrations::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Integrations::TokenRefreshedAt,
            Integrations::TokenGeneration,
            Integrations::RefreshLeaseOwner,
            Integrations::RefreshLeaseUntil,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Integrations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(OauthStates::Table).to_owned())
            .await
    }
}
