from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "interaction_platform.accounts"
    label = "accounts"
    verbose_name = "Staff, logins and roles"
