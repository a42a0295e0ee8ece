"""Access-matrix declarations: the provider webhooks are public, protected by signatures."""

PUBLIC_ROUTES = {
    "channels:whatsapp_webhook",
    "channels:twilio_sms_webhook",
    "channels:twilio_status",
}
