from django.urls import path

from cegah.channels import views

URL_PREFIX = "channels/"
app_name = "channels"

urlpatterns = [
    path("whatsapp/webhook", views.whatsapp_webhook, name="whatsapp_webhook"),
    path("sms/twilio/webhook", views.twilio_sms_webhook, name="twilio_sms_webhook"),
    path("sms/twilio/status", views.twilio_status, name="twilio_status"),
]
