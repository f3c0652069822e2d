use sea_orm::entity::prelude::*;

/// An extension an account answers (by number, so a directory rebuilt by a sync keeps it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_extensions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The extension's popup settings, when they were ever saved (no foreign key: settings
    /// outlive a directory sync that drops and brings back a number).
    #[sea_orm(
        belongs_to = "super::popup_setting::Entity",
        from = "Column::Number",
        to = "super::popup_setting::Column::Number"
    )]
    PopupSetting,
}

impl Related<super::popup_setting::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PopupSetting.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
