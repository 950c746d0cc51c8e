/** Words for the report's dimensions. */
export const DEVICE_LABELS: Record<string, string> = {
  desktop_web: 'Desktop web',
  mobile_web: 'Mobile web',
  in_app: 'In-app',
  sms: 'SMS',
  messenger: 'Messenger',
  whatsapp: 'WhatsApp',
  other: 'Other',
};
