package khiputest

// APIPath is the path below the server's address where the API v2 lives, as
// Khipu's lives at https://khipu.com/api/2.0. URL includes it.
const APIPath = "/api/2.0"

// The endpoints of Khipu's API v2, as FailNext and Request.Endpoint name
// them.
const (
	EndpointBanksList          = "GET /banks"
	EndpointPaymentByToken     = "GET /payments"
	EndpointPaymentsCreate     = "POST /payments"
	EndpointPaymentsGet        = "GET /payments/{id}"
	EndpointPaymentsDelete     = "DELETE /payments/{id}"
	EndpointPaymentsConfirm    = "POST /payments/{id}/confirm"
	EndpointPaymentsRefund     = "POST /payments/{id}/refunds"
	EndpointReceiversCreate    = "POST /receivers"
	EndpointPaymentMethodsList = "GET /merchants/{id}/paymentMethods"
)

// The endpoints of Khipu's API v3, as FailNext and Request.Endpoint name
// them. Their paths are below V3URL, which is the server's root.
const (
	EndpointV3BanksList          = "GET /v3/banks"
	EndpointV3PaymentsCreate     = "POST /v3/payments"
	EndpointV3PaymentsGet        = "GET /v3/payments/{id}"
	EndpointV3PaymentsDelete     = "DELETE /v3/payments/{id}"
	EndpointV3PaymentsConfirm    = "POST /v3/payments/{id}/confirm"
	EndpointV3PaymentsRefund     = "POST /v3/payments/{id}/refunds"
	EndpointV3Predict            = "GET /v3/predict"
	EndpointV3ReceiversCreate    = "POST /v3/receivers"
	EndpointV3ReceiversChildren  = "GET /v3/receivers/children"
	EndpointV3PaymentMethodsList = "GET /v3/merchants/{id}/paymentMethods"
)

var endpoints = []string{
	EndpointBanksList, EndpointPaymentByToken, EndpointPaymentsCreate, EndpointPaymentsGet,
	EndpointPaymentsDelete, EndpointPaymentsConfirm, EndpointPaymentsRefund,
	EndpointReceiversCreate, EndpointPaymentMethodsList,
	EndpointV3BanksList, EndpointV3PaymentsCreate, EndpointV3PaymentsGet,
	EndpointV3PaymentsDelete, EndpointV3PaymentsConfirm, EndpointV3PaymentsRefund,
	EndpointV3Predict, EndpointV3ReceiversCreate, EndpointV3ReceiversChildren, EndpointV3PaymentMethodsList,
	EndpointSubscriptionsCreate, EndpointSubscriptionsGet, EndpointChargesCreate,
}
